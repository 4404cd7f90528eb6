ALTER TABLE "experiments"."arms" ADD COLUMN "recent_successes" real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."arms" ADD COLUMN "recent_failures" real DEFAULT 0 NOT NULL;