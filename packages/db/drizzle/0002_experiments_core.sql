CREATE TABLE "experiments"."arms" (
	"segment" text NOT NULL,
	"variant_id" text NOT NULL,
	"exposures" integer DEFAULT 0 NOT NULL,
	"successes" real DEFAULT 0 NOT NULL,
	"failures" real DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"status_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "arms_segment_variant_id_pk" PRIMARY KEY("segment","variant_id")
);
--> statement-breakpoint
CREATE TABLE "experiments"."decisions" (
	"request_id" text PRIMARY KEY NOT NULL,
	"lead_id" text NOT NULL,
	"segment" text NOT NULL,
	"variant_id" text NOT NULL,
	"policy" text NOT NULL,
	"propensity" real NOT NULL,
	"decided_at" timestamp with time zone DEFAULT now() NOT NULL,
	"settled_at" timestamp with time zone,
	"rewarded" boolean
);
--> statement-breakpoint
CREATE TABLE "experiments"."playbook" (
	"variant_id" text PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"angle" text NOT NULL,
	"subject_template" text NOT NULL,
	"body_template" text NOT NULL,
	"cadence_step" integer DEFAULT 0 NOT NULL,
	"retired" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "decisions_lead_id_decided_at_index" ON "experiments"."decisions" USING btree ("lead_id","decided_at");