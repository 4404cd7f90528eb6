/**
 * Reading a gateway answer the page does not fully control: type guards that turn
 * `unknown` into what a view shows, so a field the gateway adds, drops or renames shows
 * as "—" instead of breaking the card.
 */
export type Json = Record<string, unknown>;

export function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A non-empty string, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** A finite number, or undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The list in an answer: the array itself, or the first of `keys` (then `items`) that holds one. */
export function listIn(data: unknown, ...keys: string[]): unknown[] {
  if (Array.isArray(data)) return data;
  if (!isObj(data)) return [];
  for (const k of [...keys, "items"]) if (Array.isArray(data[k])) return data[k] as unknown[];
  return [];
}
