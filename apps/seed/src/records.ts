/**
 * Lightfield records in their documented read shape (LIGHTFIELD.md, API 2026-03-01) and the
 * webhook bodies that carry them: what a Lightfield workflow's lifecycle trigger outputs
 * (the object plus `occurredAt`, and `_diff` for updates), and the intent signals a site
 * posts. Shared by the sample-event generator (scripts/) and `--simulate`, so the committed
 * samples and the leads simulated live have one shape.
 *
 * Select fields carry the option id, as Lightfield reads them back, and also the option's
 * `label`/`labels` as a relay that resolved the definitions adds them (the shape ingest
 * itself produces when it has a Lightfield key). Without the labels, an ingest with no
 * Lightfield key (the demo) would know neither company size nor industry, and every lead
 * would land in the same size band.
 */

/** A field as Lightfield reads it: `{ value, valueType }`, plus a select's resolved label(s). */
export type ApiField = {
  value: unknown;
  valueType: string;
  label?: string;
  labels?: string[];
};
export type ApiRelationship = {
  cardinality: "has_one" | "has_many";
  objectType: string;
  values: string[];
};
/** `{ id, createdAt, updatedAt|null, httpLink|null, externalId|null, fields, relationships }`. */
export type ApiRecord = {
  id: string;
  createdAt: string;
  updatedAt: string | null;
  httpLink: string | null;
  externalId: string | null;
  fields: Record<string, ApiField>;
  relationships: Record<string, ApiRelationship>;
};

/** ADDRESS: every documented key, `null` when unknown; `country` is ISO alpha-2. */
export type Address = {
  street: string | null;
  street2: string | null;
  city: string | null;
  state: string | null;
  postalCode: string | null;
  country: string;
  latitude: number | null;
  longitude: number | null;
};

export type SelectOption = { id: string; label: string };

/** `$headcount` options (LinkedIn's bands); ingest reads a band as its middle ("51-200" → 126). */
export const HEADCOUNT_BANDS = [
  { id: "opt_headcount_1_10", label: "1-10", min: 1, max: 10 },
  { id: "opt_headcount_11_50", label: "11-50", min: 11, max: 50 },
  { id: "opt_headcount_51_200", label: "51-200", min: 51, max: 200 },
  { id: "opt_headcount_201_500", label: "201-500", min: 201, max: 500 },
  { id: "opt_headcount_501_1000", label: "501-1,000", min: 501, max: 1_000 },
  { id: "opt_headcount_1001_5000", label: "1,001-5,000", min: 1_001, max: 5_000 },
  { id: "opt_headcount_5001_10000", label: "5,001-10,000", min: 5_001, max: 10_000 },
  { id: "opt_headcount_10001", label: "10,001+", min: 10_001, max: Number.POSITIVE_INFINITY },
] as const;
export type HeadcountBand = (typeof HEADCOUNT_BANDS)[number];

/** The band holding an employee count (the last one for anything above 10,000). */
export function headcountBandOf(employees: number): HeadcountBand {
  return HEADCOUNT_BANDS.find((b) => employees <= b.max) ?? HEADCOUNT_BANDS.at(-1)!;
}

/** `"Financial Services"` → `opt_industry_financial_services`. */
export function optionId(field: string, label: string): string {
  const slug = label
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "");
  return `opt_${field}_${slug}`;
}

/** An industry label as a MULTI_SELECT option: `"software"` → `{ id, label: "Software" }`. */
export function industryOption(label: string): SelectOption {
  const pretty = label.replace(
    /(^|[\s-])(\p{Ll})/gu,
    (_, sep: string, c: string) => sep + c.toUpperCase(),
  );
  return { id: optionId("industry", pretty), label: pretty };
}

const APP = "https://app.lightfield.app";

export type ContactSpec = {
  id: string;
  accountId: string;
  firstName: string;
  lastName: string;
  emails: string[];
  /** E.164. */
  phones?: string[];
  /** Read by ingest from the custom `title` field (Lightfield documents no `$title`). */
  title?: string;
  /** IANA zone in the custom `timezone` field; without it ingest guesses from the address. */
  timezone?: string;
  address?: Address;
  /** `$marketingConsent`: false means the lead withdrew consent (never contacted). */
  marketingConsent?: boolean;
};

export type AccountSpec = {
  id: string;
  name: string;
  /** The company's host, e.g. `acme.example`. */
  domain: string;
  headcount: SelectOption;
  industries: SelectOption[];
  address?: Address;
  contactIds: string[];
  ownerId?: string;
};

export type OpportunitySpec = {
  id: string;
  name: string;
  stage: SelectOption;
  /** CURRENCY: a whole amount in the workspace's currency (the docs do not show the shape; a number). */
  amount: number;
  accountId: string;
  championId: string;
  ownerId?: string;
};

/** When the record was created and last updated (ISO 8601). */
export type RecordTimes = { createdAt: string; updatedAt: string | null };

const one = (objectType: string, id: string): ApiRelationship => ({
  cardinality: "has_one",
  objectType,
  values: [id],
});
const many = (objectType: string, ids: string[]): ApiRelationship => ({
  cardinality: "has_many",
  objectType,
  values: ids,
});
const single = (o: SelectOption): ApiField => ({
  value: o.id,
  valueType: "SINGLE_SELECT",
  label: o.label,
});
const multi = (os: SelectOption[]): ApiField => ({
  value: os.map((o) => o.id),
  valueType: "MULTI_SELECT",
  labels: os.map((o) => o.label),
});

function base(type: string, id: string, t: RecordTimes) {
  return {
    id,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    httpLink: `${APP}/${type}/${id}`,
    externalId: null,
  };
}

export function contactRecord(c: ContactSpec, t: RecordTimes): ApiRecord {
  const fields: Record<string, ApiField> = {
    $name: { value: { firstName: c.firstName, lastName: c.lastName }, valueType: "FULL_NAME" },
    $email: { value: c.emails, valueType: "EMAIL" },
  };
  if (c.phones?.length) fields.$phone = { value: c.phones, valueType: "TELEPHONE" };
  if (c.title !== undefined) fields.title = { value: c.title, valueType: "TEXT" };
  if (c.timezone !== undefined) fields.timezone = { value: c.timezone, valueType: "TEXT" };
  if (c.address) fields.$address = { value: c.address, valueType: "ADDRESS" };
  if (c.marketingConsent !== undefined)
    fields.$marketingConsent = { value: c.marketingConsent, valueType: "CHECKBOX" };
  return {
    ...base("contacts", c.id, t),
    fields,
    relationships: { $account: one("accounts", c.accountId) },
  };
}

export function accountRecord(a: AccountSpec, t: RecordTimes): ApiRecord {
  const fields: Record<string, ApiField> = {
    $name: { value: a.name, valueType: "TEXT" },
    $website: { value: `https://www.${a.domain}`, valueType: "URL" },
    $headcount: single(a.headcount),
    $industry: multi(a.industries),
  };
  if (a.address) fields.$address = { value: a.address, valueType: "ADDRESS" };
  const relationships: Record<string, ApiRelationship> = {
    $contact: many("contacts", a.contactIds),
  };
  if (a.ownerId) relationships.$owner = one("members", a.ownerId);
  return { ...base("accounts", a.id, t), fields, relationships };
}

export function opportunityRecord(o: OpportunitySpec, t: RecordTimes): ApiRecord {
  const relationships: Record<string, ApiRelationship> = {
    $account: one("accounts", o.accountId),
    $champion: one("contacts", o.championId),
  };
  if (o.ownerId) relationships.$owner = one("members", o.ownerId);
  return {
    ...base("opportunities", o.id, t),
    fields: {
      $name: { value: o.name, valueType: "TEXT" },
      $stage: single(o.stage),
      $amount: { value: o.amount, valueType: "CURRENCY" },
    },
    relationships,
  };
}

/**
 * A workflow's lifecycle-trigger output: the object itself plus `occurredAt`, and for an
 * update the `_diff` of the watched fields (`before` / `after`). The event type goes on
 * the URL (`?type=contact.created`), as a workflow's HTTP step is configured.
 */
export function triggerBody(
  record: ApiRecord,
  occurredAt: string,
  diff?: { before: Record<string, unknown>; after: Record<string, unknown> },
): Record<string, unknown> {
  return { ...record, occurredAt, ...(diff ? { _diff: diff } : {}) };
}

export type LightfieldEventType =
  `${"contact" | "account" | "opportunity"}.${"created" | "updated"}`;

export const lightfieldRoute = (type: LightfieldEventType) => `/webhooks/lightfield?type=${type}`;
export const SIGNALS_ROUTE = "/webhooks/signals";
export const OUTCOMES_ROUTE = "/webhooks/outcomes";

/** The lead id ingest gives a contact (`lf_<contactId>`): what signals and outcomes name. */
export const leadIdOf = (contactId: string) => `lf_${contactId}`;
