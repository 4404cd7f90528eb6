ALTER TABLE "experiments"."arms" ADD COLUMN "recent_sends" real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."arms" ADD COLUMN "recent_bounces" real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."arms" ADD COLUMN "recent_unsubscribes" real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments"."arms" ADD COLUMN "recent_negative_replies" real DEFAULT 0 NOT NULL;