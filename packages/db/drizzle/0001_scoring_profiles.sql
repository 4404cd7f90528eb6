CREATE TABLE "scoring"."model_versions" (
	"version" integer PRIMARY KEY NOT NULL,
	"weights" jsonb NOT NULL,
	"reason" text NOT NULL,
	"updates" integer DEFAULT 0 NOT NULL,
	"active" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scoring"."signals" (
	"lead_id" text NOT NULL,
	"event_id" text NOT NULL,
	"kind" text NOT NULL,
	"url" text,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "signals_lead_id_event_id_pk" PRIMARY KEY("lead_id","event_id")
);
--> statement-breakpoint
ALTER TABLE "scoring"."leads" ADD COLUMN "engagement" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "scoring"."leads" ADD COLUMN "contactable" boolean DEFAULT true NOT NULL;--> statement-breakpoint
CREATE INDEX "signals_lead_id_occurred_at_index" ON "scoring"."signals" USING btree ("lead_id","occurred_at");