ALTER TABLE "experiments"."arms" ADD COLUMN "closed_successes" real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."arms" ADD COLUMN "closed_failures" real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."decisions" ADD COLUMN "closed_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "decisions_state_closed_at_requested_at_index" ON "experiments"."decisions" USING btree ("state","closed_at","requested_at");