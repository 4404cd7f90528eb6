// What Lightfield's reads return (API 2026-03-01, /work/shared/LIGHTFIELD.md): records,
// list pages and field definitions, parsed leniently — an unknown key or value type must
// not drop a record.
import { z } from "zod";

/** A record as the API returns it (documented shape; unknown keys kept). */
export const ApiRecord = z.looseObject({
  id: z.string().min(1),
  createdAt: z.string().nullish(),
  updatedAt: z.string().nullish(),
  httpLink: z.string().nullish(),
  externalId: z.string().nullish(),
  fields: z.record(z.string(), z.looseObject({ value: z.unknown(), valueType: z.string() })),
  relationships: z
    .record(
      z.string(),
      z.looseObject({
        cardinality: z.string().nullish(),
        objectType: z.string().nullish(),
        values: z.array(z.string()).default([]),
      }),
    )
    .default({}),
});
export type ApiRecord = z.infer<typeof ApiRecord>;

export const ListResponse = z.object({
  data: z.array(ApiRecord),
  object: z.string().optional(),
  totalCount: z.number().int().nonnegative().optional(),
});
export type ListResponse = z.infer<typeof ListResponse>;

const Option = z.looseObject({ id: z.string(), label: z.string() });
const Definition = z.looseObject({
  valueType: z.string().optional(),
  typeConfiguration: z.looseObject({ options: z.array(Option).optional() }).nullish(),
});
/** Field key → its definition. The container's name is not documented: accept the likely ones. */
export const DefinitionsResponse = z
  .looseObject({
    fieldDefinitions: z.record(z.string(), Definition).optional(),
    fields: z.record(z.string(), Definition).optional(),
  })
  .transform((b) => b.fieldDefinitions ?? b.fields ?? {});
export type FieldDefinitions = z.output<typeof DefinitionsResponse>;

/** What a create answers: the new record; only its id is needed, the rest is kept loose. */
export const CreatedRecord = z.looseObject({ id: z.string().min(1) });

/**
 * The ids a record's relationship holds (`relatedIds(contact, "$account")` → the contact's
 * account), `[]` when the record has no such relationship.
 */
export function relatedIds(record: Pick<ApiRecord, "relationships">, key: string): string[] {
  return record.relationships[key]?.values ?? [];
}
