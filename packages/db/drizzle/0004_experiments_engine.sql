CREATE TABLE "experiments"."do_not_contact" (
	"lead_id" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "experiments"."queue" (
	"lead_id" text PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"segment" text NOT NULL,
	"score" real NOT NULL,
	"boost" real DEFAULT 0 NOT NULL,
	"email" text NOT NULL,
	"facts" jsonb NOT NULL,
	"traceparent" text,
	"status" text DEFAULT 'queued' NOT NULL,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "experiments"."send_capacity" (
	"day" text PRIMARY KEY NOT NULL,
	"used" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "experiments"."arms" ADD COLUMN "bounces" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."arms" ADD COLUMN "unsubscribes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."arms" ADD COLUMN "negative_replies" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."arms" ADD COLUMN "decayed_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."decisions" ADD COLUMN "state" text DEFAULT 'requested' NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."decisions" ADD COLUMN "requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "experiments"."decisions" ADD COLUMN "context" jsonb;--> statement-breakpoint
ALTER TABLE "experiments"."decisions" ADD COLUMN "pending_request" jsonb;--> statement-breakpoint
ALTER TABLE "experiments"."playbook" ADD COLUMN "delay_days" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."playbook" ADD COLUMN "parent_variant_id" text;--> statement-breakpoint
ALTER TABLE "experiments"."playbook" ADD COLUMN "track" text DEFAULT 'experiment' NOT NULL;--> statement-breakpoint
CREATE INDEX "queue_status_queued_at_index" ON "experiments"."queue" USING btree ("status","queued_at");--> statement-breakpoint
CREATE INDEX "decisions_state_settled_at_index" ON "experiments"."decisions" USING btree ("state","settled_at");--> statement-breakpoint
-- Decisions made before approval mode existed were requested when decided.
UPDATE "experiments"."decisions" SET "requested_at" = "decided_at" WHERE "requested_at" IS NULL AND "state" = 'requested';
