CREATE SCHEMA "agent";
--> statement-breakpoint
CREATE TABLE "agent"."dispatches" (
	"idempotency_key" text PRIMARY KEY NOT NULL,
	"dispatch_id" text NOT NULL,
	"request_hash" text NOT NULL,
	"lead_id" text NOT NULL,
	"channel" text NOT NULL,
	"state" text NOT NULL,
	"provider_message_id" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dispatches_dispatchId_unique" UNIQUE("dispatch_id")
);
--> statement-breakpoint
CREATE TABLE "agent"."inbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "agent"."inbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"dispatch_id" text NOT NULL,
	"lead_id" text NOT NULL,
	"channel" text NOT NULL,
	"to" text NOT NULL,
	"subject" text NOT NULL,
	"text" text NOT NULL,
	"html" text,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dispatch"."cap_counters" (
	"scope" text NOT NULL,
	"bucket" text NOT NULL,
	"used" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "cap_counters_scope_bucket_pk" PRIMARY KEY("scope","bucket")
);
--> statement-breakpoint
CREATE TABLE "dispatch"."controls" (
	"name" text PRIMARY KEY NOT NULL,
	"engaged" boolean NOT NULL,
	"by" text,
	"reason" text,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dispatch"."leads" (
	"lead_id" text PRIMARY KEY NOT NULL,
	"opted_out_at" timestamp with time zone,
	"opt_out_reason" text,
	"suppressed" boolean DEFAULT false NOT NULL,
	"stopped_at" timestamp with time zone,
	"stop_reason" text,
	"last_touch_at" timestamp with time zone,
	"last_touch_key" text,
	"last_nurture_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dispatch"."sends" (
	"key" text PRIMARY KEY NOT NULL,
	"lead_id" text NOT NULL,
	"request_id" text NOT NULL,
	"step" integer NOT NULL,
	"track" text NOT NULL,
	"segment" text NOT NULL,
	"variant_id" text NOT NULL,
	"channel" text NOT NULL,
	"to" text NOT NULL,
	"domain" text,
	"subject" text NOT NULL,
	"body" text NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"time_zone" text,
	"follow_ups" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"why" text,
	"state" text DEFAULT 'scheduled' NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"lease_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"reason" text,
	"dispatch_id" text,
	"provider_message_id" text,
	"traceparent" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "dispatch"."writebacks" (
	"send_key" text PRIMARY KEY NOT NULL,
	"lead_id" text NOT NULL,
	"contact_id" text NOT NULL,
	"kind" text NOT NULL,
	"title" text NOT NULL,
	"content" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_at" timestamp with time zone NOT NULL,
	"last_error" text,
	"lightfield_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"done_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "agent_dispatches_created_idx" ON "agent"."dispatches" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "agent_inbox_lead_idx" ON "agent"."inbox" USING btree ("lead_id");--> statement-breakpoint
CREATE INDEX "sends_due_idx" ON "dispatch"."sends" USING btree ("due_at") WHERE "dispatch"."sends"."state" = 'scheduled';--> statement-breakpoint
CREATE INDEX "sends_lease_idx" ON "dispatch"."sends" USING btree ("lease_until") WHERE "dispatch"."sends"."state" = 'sending';--> statement-breakpoint
CREATE INDEX "sends_lead_idx" ON "dispatch"."sends" USING btree ("lead_id");--> statement-breakpoint
CREATE INDEX "writebacks_next_idx" ON "dispatch"."writebacks" USING btree ("next_at") WHERE "dispatch"."writebacks"."state" = 'pending';