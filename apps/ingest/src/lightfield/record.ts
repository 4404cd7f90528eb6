/**
 * The one reader of Lightfield records, used by the webhook route and the poller
 * alike: the documented value shapes (LIGHTFIELD.md) → the lead profile, and the
 * record itself put into its documented shape (relationships as
 * `{ cardinality, objectType, values }`, select options labelled when the
 * definitions are known). Nothing here drops a record: an unknown field or value
 * type is kept as it came and simply not read.
 */
import {
  EmailAddress,
  type LeadProfilePatch,
  type LightfieldFieldValue,
  type LightfieldRecord,
  relationshipIds,
} from "@pw/events";
import { timezoneHint } from "./timezones.ts";

/**
 * A SINGLE/MULTI_SELECT option id → its label, from `GET /v1/{type}/definitions`
 * (`typeConfiguration.options`). `objectType` is the plural API type (`contacts`).
 * `undefined` when unknown: the reader then keeps the raw value.
 */
export type SelectLabels = (
  objectType: string,
  fieldKey: string,
  optionId: string,
) => string | undefined;

type Fields = LightfieldRecord["fields"];

const str = (v: unknown): string | undefined =>
  typeof v === "string" && v.trim().length > 0 ? v.trim() : undefined;

/** Strings of a value that may be one string or an array of them (EMAIL, TELEPHONE, URL). */
function strings(v: unknown): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map(str).filter((s): s is string => s !== undefined);
}

/** The first of `keys` that the record has with a non-null value. */
function firstField(
  fields: Fields,
  keys: readonly string[],
): [string, LightfieldFieldValue] | undefined {
  for (const k of keys) {
    const f = fields[k];
    if (f && f.value !== null && f.value !== undefined) return [k, f];
  }
  return undefined;
}

/** The first field of a value type (for values whose key is not documented, e.g. TELEPHONE). */
function firstOfType(
  fields: Fields,
  valueType: string,
): [string, LightfieldFieldValue] | undefined {
  return Object.entries(fields).find(
    ([, f]) => f.valueType.toUpperCase() === valueType && f.value !== null && f.value !== undefined,
  );
}

/** One option (an id or already a label, or `{ id, label }`) → its label, else the raw id. */
function optionLabel(
  objectType: string,
  key: string,
  option: unknown,
  labels: SelectLabels | undefined,
): string | undefined {
  if (option && typeof option === "object" && !Array.isArray(option)) {
    const o = option as Record<string, unknown>;
    return str(o.label) ?? str(o.name) ?? optionLabel(objectType, key, o.id, labels);
  }
  const raw = str(option);
  if (raw === undefined) return undefined;
  return labels?.(objectType, key, raw) ?? raw;
}

/** A select's value(s) as labels (unknown ids kept as they are); a plain TEXT value as itself. */
export function selectValues(
  objectType: string,
  key: string,
  field: LightfieldFieldValue | undefined,
  labels?: SelectLabels,
): string[] {
  if (!field || field.value === null) return [];
  if (field.label) return [field.label];
  if (field.labels) return field.labels;
  const list = Array.isArray(field.value) ? field.value : [field.value];
  return list
    .map((o) => optionLabel(objectType, key, o, labels))
    .filter((s): s is string => s !== undefined);
}

/** The contact's address: the first valid one, lower-cased. */
export function primaryEmail(emails: readonly string[]): string | undefined {
  return emails.map((e) => e.toLowerCase()).find((e) => EmailAddress.safeParse(e).success);
}

/** FULL_NAME `{ firstName, lastName }`; a plain string is split at its first space. */
export function readName(value: unknown): { firstName?: string; lastName?: string } {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const n = value as Record<string, unknown>;
    const firstName = str(n.firstName);
    const lastName = str(n.lastName);
    return { ...(firstName ? { firstName } : {}), ...(lastName ? { lastName } : {}) };
  }
  const full = str(value);
  if (!full) return {};
  const [firstName, ...rest] = full.split(/\s+/);
  return { firstName: firstName!, ...(rest.length ? { lastName: rest.join(" ") } : {}) };
}

export type Address = {
  street?: string;
  street2?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  /** ISO 3166 alpha-2, upper case, as documented. */
  country?: string;
};

/** ADDRESS `{ street, street2, city, state, postalCode, country, … }`; anything else → undefined. */
export function readAddress(value: unknown): Address | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const a = value as Record<string, unknown>;
  const out: Address = {};
  for (const k of ["street", "street2", "city", "state", "postalCode"] as const) {
    const v = str(a[k]);
    if (v) out[k] = v;
  }
  const country = str(a.country);
  if (country) out.country = country.length === 2 ? country.toUpperCase() : country;
  return out;
}

/**
 * A headcount band's employee estimate: "51-200" → 126 (the middle), "10,001+" → 10001,
 * "12" → 12; a number as itself. An option id that did not resolve → undefined.
 */
export function employeesEstimate(value: unknown): number | undefined {
  if (typeof value === "number")
    return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const s = str(value);
  if (!s) return undefined;
  const m = /^(\d[\d,.]*)\s*(?:(?:-|–|—|to)\s*(\d[\d,.]*)|(\+))?(?:\s*[a-z ]*)?$/i.exec(s);
  if (!m) return undefined;
  const n = (t: string) => Number(t.replace(/[,.]/g, ""));
  const lo = n(m[1]!);
  const hi = m[2] ? n(m[2]) : lo;
  const estimate = Math.round((lo + hi) / 2);
  return Number.isFinite(estimate) ? estimate : undefined;
}

/** A URL (or bare host) → its host in lower case, without `www.`. */
export function domainOf(value: unknown): string | undefined {
  const s = strings(value)[0];
  if (!s) return undefined;
  try {
    const host = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`).hostname;
    return host.toLowerCase().replace(/^www\./, "") || undefined;
  } catch {
    return undefined;
  }
}

/** A relationship's related ids, whichever shape it came in (`values`, `ids`, array, one id). */
export function relatedIds(record: Pick<LightfieldRecord, "relationships">, key: string): string[] {
  return relationshipIds(record.relationships[key]);
}

/**
 * The record in its documented shape: relationships as `{ cardinality, objectType, values }`
 * (cardinality lower case), select fields with their `label`/`labels` when `labels` knows
 * them. Everything else — unknown fields and value types included — as it came.
 */
export function canonicalRecord(
  objectType: string,
  record: LightfieldRecord,
  labels?: SelectLabels,
): LightfieldRecord {
  const relationships: LightfieldRecord["relationships"] = {};
  for (const [key, rel] of Object.entries(record.relationships)) {
    const values = relationshipIds(rel);
    if (typeof rel === "string" || Array.isArray(rel)) {
      relationships[key] = { values };
      continue;
    }
    const { ids: _ids, cardinality, ...rest } = rel;
    relationships[key] = {
      ...rest,
      ...(cardinality ? { cardinality: cardinality.toLowerCase() } : {}),
      values,
    };
  }
  const fields: Fields = {};
  for (const [key, field] of Object.entries(record.fields)) {
    fields[key] = labels ? labelled(objectType, key, field, labels) : field;
  }
  return { ...record, fields, relationships };
}

function labelled(
  objectType: string,
  key: string,
  field: LightfieldFieldValue,
  labels: SelectLabels,
): LightfieldFieldValue {
  const type = field.valueType.toUpperCase();
  if (type === "SINGLE_SELECT" && typeof field.value === "string") {
    const label = labels(objectType, key, field.value);
    return label ? { ...field, label } : field;
  }
  if (type === "MULTI_SELECT" && Array.isArray(field.value)) {
    const ids = field.value.filter((v): v is string => typeof v === "string");
    const found = ids.map((id) => labels(objectType, key, id));
    if (!found.some((l) => l !== undefined)) return field;
    return { ...field, labels: ids.map((id, i) => found[i] ?? id) };
  }
  return field;
}

const TITLE_KEYS = ["$title", "$jobTitle", "title", "jobTitle", "job_title", "job-title"];
const STAGE_KEYS = ["$lifecycleStage", "$stage", "lifecycleStage", "lifecycle_stage", "stage"];
const ADDRESS_KEYS = ["$address", "address", "$location", "location"];

/** A TEXT value, or a select's label (or raw id when the label is unknown). */
function textOrLabel(
  objectType: string,
  fields: Fields,
  keys: readonly string[],
  labels: SelectLabels | undefined,
): string | undefined {
  const hit = firstField(fields, keys);
  if (!hit) return undefined;
  const [key, field] = hit;
  return selectValues(objectType, key, field, labels)[0];
}

function addressOf(fields: Fields): Address | undefined {
  const hit = firstField(fields, ADDRESS_KEYS) ?? firstOfType(fields, "ADDRESS");
  return hit ? readAddress(hit[1].value) : undefined;
}

/** What a Lightfield record says about the lead, and nothing it does not say. */
export function profileFromRecord(
  objectType: string,
  record: LightfieldRecord,
  labels?: SelectLabels,
): LeadProfilePatch {
  const p: LeadProfilePatch = {};
  const set = <K extends keyof LeadProfilePatch>(k: K, v: LeadProfilePatch[K] | undefined) => {
    if (v !== undefined) p[k] = v;
  };
  const f = record.fields;
  if (objectType === "contacts") {
    const name = readName(f.$name?.value);
    set("firstName", name.firstName);
    set("lastName", name.lastName);
    // `$email` is an array per the docs; one string is tolerated.
    const emails = strings((firstField(f, ["$email"]) ?? firstOfType(f, "EMAIL"))?.[1].value);
    // A CRM address the topic would refuse is left out, not a reason to drop the record.
    set("email", primaryEmail(emails));
    if (emails.length) set("emails", emails.slice(0, 50));
    const phones = Object.values(f)
      .filter((x) => x.valueType.toUpperCase() === "TELEPHONE")
      .flatMap((x) => strings(x.value));
    if (phones.length) set("phones", phones.slice(0, 50));
    set("title", textOrLabel(objectType, f, TITLE_KEYS, labels));
    const address = addressOf(f);
    const country = address?.country ?? str(f.$country?.value);
    set("country", country);
    set(
      "timezone",
      str(f.$timezone?.value) ??
        str(f.timezone?.value) ??
        (country ? timezoneHint(country, address?.state) : undefined),
    );
    set("stage", textOrLabel(objectType, f, STAGE_KEYS, labels));
    const consent = f.$marketingConsent?.value;
    if (typeof consent === "boolean") set("consent", consent);
    set("accountId", relatedIds(record, "$account")[0]);
  }
  if (objectType === "accounts") {
    set("company", str(f.$name?.value));
    set("domain", domainOf(f.$domain?.value) ?? domainOf(f.$website?.value));
    set("industry", selectValues(objectType, "$industry", f.$industry, labels)[0]);
    const employees =
      employeesEstimate(f.$employeeCount?.value) ??
      (typeof f.$headcount?.value === "number"
        ? employeesEstimate(f.$headcount.value)
        : employeesEstimate(selectValues(objectType, "$headcount", f.$headcount, labels)[0]));
    set("employees", employees);
    // The account's country, but no time zone: where the company sits is not where the lead does.
    set("country", addressOf(f)?.country ?? str(f.$country?.value));
    set("accountId", record.id);
  }
  if (objectType === "opportunities") {
    set("stage", textOrLabel(objectType, f, ["$stage"], labels));
    set("accountId", relatedIds(record, "$account")[0]);
  }
  return p;
}
