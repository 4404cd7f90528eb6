/**
 * Lightfield's record shape, modelled as its API documents it (Lightfield-Version
 * 2026-03-01): `{ id, createdAt, updatedAt, httpLink, externalId, fields, relationships }`
 * with `fields: { "$email": { value, valueType } }` and
 * `relationships: { "$account": { cardinality, objectType, values: [ids] } }`.
 * System fields are `$`-prefixed; custom ones are bare slugs. valueType is kept open
 * (a new type must not make us drop a record); the documented ones are listed.
 * Relationships are accepted in the shapes workflows and relays post too (`ids`, an
 * array of ids, one id); ingest's record reader turns them into the documented one.
 */
import { z } from "zod";

export const LightfieldObjectType = z.enum([
  "accounts",
  "contacts",
  "opportunities",
  "notes",
  "tasks",
  "meetings",
]);
export type LightfieldObjectType = z.infer<typeof LightfieldObjectType>;

/** The 14 value types of the documented API (there is no PHONE, DATE, BOOLEAN or REFERENCE). */
export const KNOWN_VALUE_TYPES = [
  "ADDRESS",
  "CHECKBOX",
  "CURRENCY",
  "DATETIME",
  "EMAIL",
  "FULL_NAME",
  "MARKDOWN",
  "MULTI_SELECT",
  "NUMBER",
  "SINGLE_SELECT",
  "SOCIAL_HANDLE",
  "TELEPHONE",
  "TEXT",
  "URL",
] as const;
export type KnownValueType = (typeof KNOWN_VALUE_TYPES)[number];

const JsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(JsonValue),
    z.record(z.string(), JsonValue),
  ]),
);

export const LightfieldFieldValue = z.object({
  /** `null` when unset. */
  value: JsonValue,
  valueType: z.string().min(1).max(64),
  /** A SINGLE_SELECT option's label, when ingest knew the field's definitions. */
  label: z.string().max(500).optional(),
  /** A MULTI_SELECT's option labels, in order, when ingest knew the field's definitions. */
  labels: z.array(z.string().max(500)).max(1000).optional(),
});
export type LightfieldFieldValue = z.infer<typeof LightfieldFieldValue>;

/** Field names: `$name` for system fields, slugs for custom ones. */
const FieldName = z
  .string()
  .regex(/^\$?[A-Za-z][A-Za-z0-9_-]{0,99}$/, "must be a field name like $email");

const RecordId = z.string().min(1).max(200);
const RecordIds = z.array(RecordId).max(1000);

/** The documented relationship: `{ cardinality, objectType, values: [ids] }`. */
export const LightfieldRelationshipObject = z.object({
  /** `has_one` / `has_many` (any case; definitions spell it `HAS_ONE`). */
  cardinality: z.string().max(32).optional(),
  /** Related object type, e.g. `accounts` for a contact's `$account`. */
  objectType: z.string().min(1).max(64).optional(),
  values: RecordIds.optional(),
  /** What some relays send instead of `values`. */
  ids: RecordIds.optional(),
});

/** The documented object, or what relays post instead: an array of ids, or one id. */
export const LightfieldRelationship = z.union([LightfieldRelationshipObject, RecordIds, RecordId]);
export type LightfieldRelationship = z.infer<typeof LightfieldRelationship>;

export const LightfieldRecord = z.object({
  id: RecordId,
  fields: z.record(FieldName, LightfieldFieldValue),
  relationships: z.record(FieldName, LightfieldRelationship).default({}),
  createdAt: z.iso.datetime({ offset: true }).optional(),
  updatedAt: z.iso.datetime({ offset: true }).nullable().optional(),
  httpLink: z.string().max(2048).nullable().optional(),
  externalId: z.string().max(500).nullable().optional(),
});
export type LightfieldRecord = z.infer<typeof LightfieldRecord>;

/** The ids a relationship names, whichever shape it came in. */
export function relationshipIds(rel: LightfieldRelationship | undefined | null): string[] {
  if (rel === undefined || rel === null) return [];
  if (typeof rel === "string") return [rel];
  if (Array.isArray(rel)) return rel;
  return rel.values ?? rel.ids ?? [];
}
