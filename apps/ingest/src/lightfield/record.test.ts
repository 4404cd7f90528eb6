// The record reader against records in the documented shape (LIGHTFIELD.md, 2026-03-01).
import { LightfieldRecord } from "@pw/events";
import { describe, expect, it } from "vitest";
import { normalizeLightfield } from "../normalize.ts";
import {
  canonicalRecord,
  domainOf,
  employeesEstimate,
  profileFromRecord,
  readAddress,
  readName,
  type SelectLabels,
} from "./record.ts";
import { timezoneHint } from "./timezones.ts";

/** A contact as GET /v1/contacts/{id} documents it. */
const documentedContact = () =>
  LightfieldRecord.parse({
    id: "con_1",
    createdAt: "2026-11-20T09:00:00.000Z",
    updatedAt: null,
    httpLink: null,
    externalId: null,
    fields: {
      $email: {
        value: ["not an address", "Ada@Example.com", "ada@home.example"],
        valueType: "EMAIL",
      },
      $name: { value: { firstName: "Ada", lastName: "Lovelace" }, valueType: "FULL_NAME" },
      $phone: { value: ["+442071234567"], valueType: "TELEPHONE" },
      $address: {
        value: {
          street: "1 Main St",
          street2: null,
          city: "Austin",
          state: "TX",
          postalCode: "78701",
          country: "us",
          latitude: 30.27,
          longitude: -97.74,
        },
        valueType: "ADDRESS",
      },
      lifecycleStage: { value: "opt_sql", valueType: "SINGLE_SELECT" },
      interests: { value: ["opt_ai", "Security"], valueType: "MULTI_SELECT" },
      jobTitle: { value: "VP Engineering", valueType: "TEXT" },
      favouriteColour: { value: { hue: 3 }, valueType: "COLOUR" },
      nothing: { value: null, valueType: "TEXT" },
    },
    relationships: {
      $account: { cardinality: "HAS_ONE", objectType: "accounts", values: ["acc_1"] },
    },
  });

const documentedAccount = () =>
  LightfieldRecord.parse({
    id: "acc_1",
    createdAt: "2026-11-20T09:00:00.000Z",
    updatedAt: "2026-11-21T09:00:00.000Z",
    fields: {
      $name: { value: "Acme", valueType: "TEXT" },
      $website: { value: "https://www.Acme.io/about", valueType: "URL" },
      $headcount: { value: "opt_hc3", valueType: "SINGLE_SELECT" },
      $industry: { value: ["opt_saas"], valueType: "MULTI_SELECT" },
      $address: { value: { city: "Berlin", country: "DE" }, valueType: "ADDRESS" },
    },
    relationships: {
      $owner: { cardinality: "has_one", objectType: "members", values: ["mem_1"] },
      $contact: { cardinality: "has_many", objectType: "contacts", values: ["con_1", "con_2"] },
    },
  });

const OPTIONS: Record<string, string> = {
  "contacts/lifecycleStage/opt_sql": "SQL",
  "contacts/interests/opt_ai": "AI",
  "accounts/$headcount/opt_hc3": "51-200",
  "accounts/$industry/opt_saas": "Software",
};
const labels: SelectLabels = (type, key, id) => OPTIONS[`${type}/${key}/${id}`];

describe("Lightfield record reader", () => {
  it("reads a documented contact: e-mail array, FULL_NAME, TELEPHONE, ADDRESS, selects, $account values", () => {
    expect(profileFromRecord("contacts", documentedContact(), labels)).toEqual({
      email: "ada@example.com",
      emails: ["not an address", "Ada@Example.com", "ada@home.example"],
      phones: ["+442071234567"],
      firstName: "Ada",
      lastName: "Lovelace",
      title: "VP Engineering",
      country: "US",
      timezone: "America/Chicago",
      stage: "SQL",
      accountId: "acc_1",
    });
  });

  it("keeps the raw option id when the definitions are unknown (the webhook path)", () => {
    expect(profileFromRecord("contacts", documentedContact()).stage).toBe("opt_sql");
  });

  it("reads a documented account: TEXT name, URL → domain, headcount band → employees, industry label", () => {
    expect(profileFromRecord("accounts", documentedAccount(), labels)).toEqual({
      company: "Acme",
      domain: "acme.io",
      industry: "Software",
      employees: 126,
      country: "DE",
      accountId: "acc_1",
    });
    const unlabelled = profileFromRecord("accounts", documentedAccount());
    expect(unlabelled.employees).toBeUndefined();
    expect(unlabelled.industry).toBe("opt_saas");
  });

  it("accepts a plain-string name, one e-mail string, a title in $title", () => {
    const r = LightfieldRecord.parse({
      id: "con_2",
      fields: {
        $name: { value: "Grace Brewster Hopper", valueType: "TEXT" },
        $email: { value: "grace@navy.example", valueType: "EMAIL" },
        $title: { value: "Rear Admiral", valueType: "TEXT" },
      },
      relationships: {},
    });
    expect(profileFromRecord("contacts", r)).toMatchObject({
      firstName: "Grace",
      lastName: "Brewster Hopper",
      email: "grace@navy.example",
      title: "Rear Admiral",
    });
  });

  it("puts relationships in the documented shape whatever shape they came in", () => {
    const r = LightfieldRecord.parse({
      id: "opp_1",
      fields: {},
      relationships: {
        $account: "acc_1",
        $champion: ["con_1"],
        $owner: { cardinality: "HAS_ONE", objectType: "members", ids: ["mem_1"] },
      },
    });
    expect(canonicalRecord("opportunities", r).relationships).toEqual({
      $account: { values: ["acc_1"] },
      $champion: { values: ["con_1"] },
      $owner: { cardinality: "has_one", objectType: "members", values: ["mem_1"] },
    });
  });

  it("labels select fields in the record when the definitions are known, and keeps unknown types", () => {
    const record = canonicalRecord("contacts", documentedContact(), labels);
    expect(record.fields.lifecycleStage).toEqual({
      value: "opt_sql",
      valueType: "SINGLE_SELECT",
      label: "SQL",
    });
    expect(record.fields.interests?.labels).toEqual(["AI", "Security"]);
    expect(record.fields.favouriteColour).toEqual({ value: { hue: 3 }, valueType: "COLOUR" });
  });

  it("the poller's call: labels flow into the event's profile and record", () => {
    const { event } = normalizeLightfield(
      {
        type: "contact.updated",
        occurredAt: "2026-11-21T09:00:00.000Z",
        object: documentedContact(),
      },
      "wh_test",
      "lightfield_poller",
      labels,
    );
    const data = event.data as { profile: { stage?: string }; record: LightfieldRecord };
    expect(event.subject).toBe("lf_con_1");
    expect(data.profile.stage).toBe("SQL");
    expect(data.record.relationships.$account).toMatchObject({ values: ["acc_1"] });
  });

  it("small readers", () => {
    expect(readName({ firstName: "Ada" })).toEqual({ firstName: "Ada" });
    expect(readAddress({ country: "gb", city: "London" })).toEqual({
      country: "GB",
      city: "London",
    });
    expect(readAddress("London")).toBeUndefined();
    expect(domainOf("acme.io")).toBe("acme.io");
    expect(domainOf(["http://shop.acme.io:8080/x"])).toBe("shop.acme.io");
    expect(["1-10", "51–200", "10,001+", "12", 40.4, "opt_51"].map(employeesEstimate)).toEqual([
      6,
      126,
      10001,
      12,
      40,
      undefined,
    ]);
  });

  it("hints a time zone only when sure: country, or country + state where zones differ", () => {
    expect(timezoneHint("GB")).toBe("Europe/London");
    expect(timezoneHint("US", "CA")).toBe("America/Los_Angeles");
    expect(timezoneHint("US", "US-NY")).toBe("America/New_York");
    expect(timezoneHint("CA", "British Columbia")).toBe("America/Vancouver");
    expect(timezoneHint("AU", "WA")).toBe("Australia/Perth");
    expect(timezoneHint("BR", "SP")).toBe("America/Sao_Paulo");
    expect(timezoneHint("US")).toBeUndefined();
    expect(timezoneHint("US", "Atlantis")).toBeUndefined();
    expect(timezoneHint("RU", "MOW")).toBeUndefined();
  });
});
