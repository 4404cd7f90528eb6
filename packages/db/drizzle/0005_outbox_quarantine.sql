ALTER TABLE "dispatch"."outbox" ADD COLUMN "quarantined_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "dispatch"."outbox" ADD COLUMN "quarantine_reason" text;--> statement-breakpoint
ALTER TABLE "experiments"."outbox" ADD COLUMN "quarantined_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "experiments"."outbox" ADD COLUMN "quarantine_reason" text;--> statement-breakpoint
ALTER TABLE "gateway"."outbox" ADD COLUMN "quarantined_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "gateway"."outbox" ADD COLUMN "quarantine_reason" text;--> statement-breakpoint
ALTER TABLE "ingest"."outbox" ADD COLUMN "quarantined_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "ingest"."outbox" ADD COLUMN "quarantine_reason" text;--> statement-breakpoint
ALTER TABLE "scoring"."outbox" ADD COLUMN "quarantined_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "scoring"."outbox" ADD COLUMN "quarantine_reason" text;