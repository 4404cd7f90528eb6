CREATE TABLE "gateway"."approvals" (
	"request_id" text PRIMARY KEY NOT NULL,
	"lead_id" text NOT NULL,
	"segment" text NOT NULL,
	"variant_id" text NOT NULL,
	"request" jsonb,
	"lead" jsonb,
	"held_at" timestamp with time zone,
	"resolution" text,
	"resolved_by" text,
	"resolved_reason" text,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "gateway"."model_versions" (
	"version" integer PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"cause" text NOT NULL,
	"reason" text NOT NULL,
	"previous_version" integer,
	"restored_from" integer,
	"weights" jsonb NOT NULL,
	"evaluation" jsonb,
	"activated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "gateway"."audit_log" ADD COLUMN "services" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "gateway"."audit_log" ADD COLUMN "results" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "approvals_waiting_idx" ON "gateway"."approvals" USING btree ("held_at") WHERE "gateway"."approvals"."resolution" is null;--> statement-breakpoint
CREATE INDEX "audit_log_type_at_idx" ON "gateway"."audit_log" USING btree ("command_type","at");