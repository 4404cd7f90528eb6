CREATE TABLE "scoring"."examples" (
	"scored_event_id" text PRIMARY KEY NOT NULL,
	"lead_id" text NOT NULL,
	"features" jsonb NOT NULL,
	"predicted" real NOT NULL,
	"model_version" text NOT NULL,
	"scored_at" timestamp with time zone NOT NULL,
	"label" smallint,
	"labelled_at" timestamp with time zone,
	"request_id" text
);
--> statement-breakpoint
ALTER TABLE "experiments"."decisions" ADD COLUMN "scored_event_id" text;--> statement-breakpoint
ALTER TABLE "scoring"."model_versions" ADD COLUMN "cause" text;--> statement-breakpoint
ALTER TABLE "scoring"."model_versions" ADD COLUMN "holdout" jsonb;--> statement-breakpoint
ALTER TABLE "scoring"."model_versions" ADD COLUMN "tiers" jsonb;--> statement-breakpoint
ALTER TABLE "scoring"."model_versions" ADD COLUMN "labelled_up_to" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "examples_labelled_at_index" ON "scoring"."examples" USING btree ("labelled_at");--> statement-breakpoint
CREATE INDEX "examples_scored_at_index" ON "scoring"."examples" USING btree ("scored_at");--> statement-breakpoint
CREATE INDEX "examples_lead_id_index" ON "scoring"."examples" USING btree ("lead_id");