CREATE TABLE "gateway"."arms" (
	"segment" text NOT NULL,
	"variant_id" text NOT NULL,
	"mean" real,
	"low" real,
	"high" real,
	"p_best" real,
	"exposures" integer DEFAULT 0 NOT NULL,
	"successes" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"status_reason" text,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "arms_segment_variant_id_pk" PRIMARY KEY("segment","variant_id")
);
--> statement-breakpoint
CREATE TABLE "gateway"."audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "gateway"."audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"command_id" text NOT NULL,
	"command_type" text NOT NULL,
	"operator" text NOT NULL,
	"role" text NOT NULL,
	"subject" text NOT NULL,
	"data" jsonb NOT NULL,
	"result" text DEFAULT 'published' NOT NULL,
	"detail" text,
	"at" timestamp with time zone NOT NULL,
	"result_at" timestamp with time zone,
	CONSTRAINT "audit_log_commandId_unique" UNIQUE("command_id")
);
--> statement-breakpoint
CREATE TABLE "gateway"."leads" (
	"lead_id" text PRIMARY KEY NOT NULL,
	"name" text,
	"company" text,
	"email" text,
	"score" real,
	"tier" text,
	"segment" text,
	"status" text DEFAULT 'new' NOT NULL,
	"reasons" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"priority" integer,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gateway"."operators" (
	"username" text PRIMARY KEY NOT NULL,
	"password_hash" text NOT NULL,
	"role" text NOT NULL,
	"disabled" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gateway"."sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"username" text NOT NULL,
	"role" text NOT NULL,
	"csrf_token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gateway"."stream_events" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "gateway"."stream_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" text NOT NULL,
	"topic" text NOT NULL,
	"type" text NOT NULL,
	"subject" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL,
	CONSTRAINT "stream_events_eventId_unique" UNIQUE("event_id")
);
--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "gateway"."audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "leads_updated_idx" ON "gateway"."leads" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "leads_score_idx" ON "gateway"."leads" USING btree ("score");--> statement-breakpoint
CREATE INDEX "sessions_expires_idx" ON "gateway"."sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "stream_events_subject_idx" ON "gateway"."stream_events" USING btree ("subject","seq");--> statement-breakpoint
CREATE INDEX "stream_events_topic_idx" ON "gateway"."stream_events" USING btree ("topic","seq");