// Records and field definitions shaped like Lightfield's documented examples (API
// 2026-03-01), for the contract server (./test-server.ts) and the tests that fill it.

export type ApiField = { value: unknown; valueType: string };
export type ApiRelationship = { cardinality?: string; objectType?: string; values: string[] };
/** A record as the server stores and returns it. */
export type ApiRecord = {
  id: string;
  createdAt: string;
  updatedAt: string | null;
  httpLink: string | null;
  externalId: string | null;
  fields: Record<string, ApiField>;
  relationships: Record<string, ApiRelationship>;
};
export type FieldDefinition = {
  valueType: string;
  label?: string;
  typeConfiguration?: { options?: { id: string; label: string }[] };
};

export const HEADCOUNT_OPTIONS = [
  { id: "opt_hc_1", label: "1-10" },
  { id: "opt_hc_2", label: "11-50" },
  { id: "opt_hc_3", label: "51-200" },
  { id: "opt_hc_4", label: "201-500" },
];

export const accountDefinitions: Record<string, FieldDefinition> = {
  $name: { valueType: "TEXT", label: "Name" },
  $website: { valueType: "URL", label: "Website" },
  $headcount: {
    valueType: "SINGLE_SELECT",
    label: "Headcount",
    typeConfiguration: { options: HEADCOUNT_OPTIONS },
  },
  $industry: {
    valueType: "MULTI_SELECT",
    label: "Industry",
    typeConfiguration: { options: [{ id: "opt_ind_saas", label: "SaaS" }] },
  },
};

export const contactDefinitions: Record<string, FieldDefinition> = {
  $name: { valueType: "FULL_NAME", label: "Name" },
  $email: { valueType: "EMAIL", label: "Email" },
  $phone: { valueType: "TELEPHONE", label: "Phone" },
  title: { valueType: "TEXT", label: "Job title" },
  seniority: {
    valueType: "SINGLE_SELECT",
    label: "Seniority",
    typeConfiguration: {
      options: [
        { id: "opt_sen_ic", label: "Individual contributor" },
        { id: "opt_sen_exec", label: "Executive" },
      ],
    },
  },
};

export function contactFixture(
  i: number,
  overrides: Partial<ApiRecord> & { title?: string; accountId?: string } = {},
): ApiRecord {
  const { title, accountId, ...rest } = overrides;
  return {
    id: `con_${i}`,
    createdAt: "2026-11-01T00:00:00.000Z",
    updatedAt: "2026-11-20T10:00:00.000Z",
    httpLink: `https://app.lightfield.app/contacts/con_${i}`,
    externalId: null,
    fields: {
      $name: { value: { firstName: `P${i}`, lastName: "Doe" }, valueType: "FULL_NAME" },
      $email: { value: [`person${i}@acme.io`], valueType: "EMAIL" },
      $phone: { value: ["+14155550100"], valueType: "TELEPHONE" },
      title: { value: title ?? "Engineer", valueType: "TEXT" },
      seniority: { value: "opt_sen_ic", valueType: "SINGLE_SELECT" },
    },
    relationships: {
      $account: { cardinality: "has_one", objectType: "accounts", values: [accountId ?? "acc_1"] },
    },
    ...rest,
  };
}

export function accountFixture(id = "acc_1", overrides: Partial<ApiRecord> = {}): ApiRecord {
  return {
    id,
    createdAt: "2026-10-01T00:00:00.000Z",
    updatedAt: "2026-11-20T09:00:00.000Z",
    httpLink: `https://app.lightfield.app/accounts/${id}`,
    externalId: null,
    fields: {
      $name: { value: "Acme", valueType: "TEXT" },
      $website: { value: "https://acme.io", valueType: "URL" },
      $headcount: { value: "opt_hc_3", valueType: "SINGLE_SELECT" },
      $industry: { value: ["opt_ind_saas"], valueType: "MULTI_SELECT" },
    },
    relationships: {
      $contact: { cardinality: "has_many", objectType: "contacts", values: ["con_0"] },
    },
    ...overrides,
  };
}

export const noteDefinitions: Record<string, FieldDefinition> = {
  $title: { valueType: "TEXT", label: "Title" },
  $content: { valueType: "MARKDOWN", label: "Content" },
};

export const taskDefinitions: Record<string, FieldDefinition> = {
  $title: { valueType: "TEXT", label: "Title" },
  $description: { valueType: "MARKDOWN", label: "Description" },
  $status: { valueType: "SINGLE_SELECT", label: "Status" },
  $dueAt: { valueType: "DATETIME", label: "Due" },
};
