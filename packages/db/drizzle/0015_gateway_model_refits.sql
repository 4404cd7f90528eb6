ALTER TABLE "gateway"."model_versions" ADD COLUMN "holdout" jsonb;--> statement-breakpoint
ALTER TABLE "gateway"."model_versions" ADD COLUMN "tiers" jsonb;--> statement-breakpoint
ALTER TABLE "gateway"."model_versions" ADD COLUMN "rejected" boolean DEFAULT false NOT NULL;