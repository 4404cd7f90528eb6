CREATE TABLE "ingest"."lightfield_records" (
	"object_type" text NOT NULL,
	"record_id" text NOT NULL,
	"updated_at" timestamp with time zone,
	"content_hash" text NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lightfield_records_object_type_record_id_pk" PRIMARY KEY("object_type","record_id")
);
