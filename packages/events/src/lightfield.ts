/**
 * Lightfield's record shape, modelled as its API returns it (Lightfield-Version
 * 2026-03-01): `{ id, fields: { "$email": { value, valueType } }, relationships }`.
 * System fields are `$`-prefixed; custom fields are not. valueType is kept open
 * (a new type must not make us drop a record); the known ones are listed.
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

export const KNOWN_VALUE_TYPES = [
  "TEXT",
  "NUMBER",
  "CURRENCY",
  "EMAIL",
  "PHONE",
  "URL",
  "DATE",
  "DATETIME",
  "BOOLEAN",
  "SINGLE_SELECT",
  "MULTI_SELECT",
  "ADDRESS",
  "MARKDOWN",
  "REFERENCE",
] as const;

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
  value: JsonValue,
  valueType: z.string().min(1).max(64),
});
export type LightfieldFieldValue = z.infer<typeof LightfieldFieldValue>;

/** Field names: `$name` for system fields, plain identifiers for custom ones. */
const FieldName = z
  .string()
  .regex(/^\$?[A-Za-z][A-Za-z0-9_]{0,99}$/, "must be a field name like $email");

export const LightfieldRelationship = z.object({
  /** Related object type, e.g. `accounts` for a contact's `$account`. */
  objectType: z.string().min(1).max(64).optional(),
  cardinality: z.enum(["one", "many"]).optional(),
  ids: z.array(z.string().min(1).max(200)).max(1000),
});
export type LightfieldRelationship = z.infer<typeof LightfieldRelationship>;

export const LightfieldRecord = z.object({
  id: z.string().min(1).max(200),
  fields: z.record(FieldName, LightfieldFieldValue),
  relationships: z.record(FieldName, LightfieldRelationship).default({}),
  createdAt: z.iso.datetime({ offset: true }).optional(),
  updatedAt: z.iso.datetime({ offset: true }).optional(),
});
export type LightfieldRecord = z.infer<typeof LightfieldRecord>;

/** Reads a field's value when it has the expected JS type; undefined otherwise. */
export function fieldString(
  record: Pick<LightfieldRecord, "fields">,
  name: string,
): string | undefined {
  const v = record.fields[name]?.value;
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

export function fieldNumber(
  record: Pick<LightfieldRecord, "fields">,
  name: string,
): number | undefined {
  const v = record.fields[name]?.value;
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
