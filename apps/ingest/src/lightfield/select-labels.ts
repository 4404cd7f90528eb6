/**
 * Select labels from Lightfield's field definitions (`GET /v1/{type}/definitions`): a
 * SINGLE_SELECT reads back as an option id, its label lives in the definitions. One cache
 * per ingest process, shared by the poller and the webhook route; a type's definitions are
 * fetched once and again only when a record carries an option id they do not know.
 * One fetch per type at a time (concurrent webhooks share it), and at most one started per
 * `refreshMs` per type: an option id the definitions never learn (a deleted option still on
 * records), or a Lightfield that is down, must not cost a Lightfield request — and a wait —
 * per webhook.
 */
import type { FieldDefinitions } from "@pw/lightfield";
import type { SelectLabels } from "./record.ts";

type Fields = Record<string, { valueType?: string; value?: unknown }>;

export type SelectLabelCache = {
  labels: SelectLabels;
  /** Loads (or refreshes) the definitions `records` need; never throws on their account. */
  ensure(objectType: string, records: { fields: Fields }[]): Promise<void>;
};

/** Default least time between two definitions fetches of one type. */
const REFRESH_MS = 10_000;

export function createSelectLabelCache(
  client: { definitions(objectType: string): Promise<FieldDefinitions> },
  options: { refreshMs?: number; now?: () => number } = {},
): SelectLabelCache {
  const refreshMs = options.refreshMs ?? REFRESH_MS;
  const now = options.now ?? Date.now;
  const definitions = new Map<string, FieldDefinitions>();
  const loading = new Map<string, Promise<void>>();
  const lastFetch = new Map<string, number>();
  const known = new Map<string, Set<string>>(); // `${type}.${field}` → option ids and labels

  const labels: SelectLabels = (objectType, fieldKey, optionId) =>
    definitions
      .get(objectType)
      ?.[fieldKey]?.typeConfiguration?.options?.find(
        (o) => o.id === optionId || o.label === optionId,
      )?.label;

  async function fetchDefinitions(type: string) {
    const defs = await client.definitions(type);
    definitions.set(type, defs);
    for (const [field, d] of Object.entries(defs))
      known.set(
        `${type}.${field}`,
        new Set((d.typeConfiguration?.options ?? []).flatMap((o) => [o.id, o.label])),
      );
  }

  function load(type: string): Promise<void> {
    lastFetch.set(type, now());
    const pending = fetchDefinitions(type).finally(() => loading.delete(type));
    loading.set(type, pending);
    return pending;
  }

  return {
    labels,
    async ensure(type, records) {
      const pending = loading.get(type);
      if (pending) return pending;
      const last = lastFetch.get(type);
      if (last !== undefined && now() - last < refreshMs) return;
      if (!definitions.has(type)) return load(type);
      const unknown = records.some((r) =>
        Object.entries(r.fields).some(([k, f]) => {
          if (f.valueType !== "SINGLE_SELECT" && f.valueType !== "MULTI_SELECT") return false;
          const ids = ([] as unknown[]).concat(f.value ?? []);
          const set = known.get(`${type}.${k}`);
          return ids.some((id) => typeof id === "string" && !set?.has(id));
        }),
      );
      if (unknown) await load(type);
    },
  };
}
