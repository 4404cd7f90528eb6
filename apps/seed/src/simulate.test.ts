// `--simulate N --rate R` against a stub ingest: leads go out at the rate asked, each as its
// contact, its account and its signals (in the past, oldest first); the same seed posts the
// same leads under the same webhook-ids (a repeat is a replay, not new leads); a run cut
// by its deadline says how many leads it never started.
import { afterEach, describe, expect, it } from "vitest";
import { simulateLeads } from "./simulate.ts";
import { TEST_SECRET as secret, stubIngest } from "./stub-ingest.ts";

describe("simulated leads", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it("posts N leads at R per second: contact, account, then signals oldest first, all in the past", async () => {
    const server = await stubIngest(() => ({ status: 202, body: { accepted: true } }));
    closers.push(server.close);
    const started = Date.now();
    const summary = await simulateLeads({
      ingestUrl: server.url,
      secret,
      count: 6,
      ratePerSecond: 10,
      seed: 42,
    });
    expect(summary).toMatchObject({
      leads: { requested: 6, started: 6 },
      rejected: 0,
      undelivered: 0,
    });
    expect(summary.accepted).toBe(summary.total);
    expect(summary.total).toBe(server.seen.length);
    // Six leads at 10/s: the last one starts half a second after the run does, not before.
    const contacts = server.seen.filter((s) => s.id.endsWith("_contact.created"));
    expect(contacts).toHaveLength(6);
    expect(contacts.at(-1)!.at - started).toBeGreaterThanOrEqual(495);
    for (const contact of contacts) {
      const lead = JSON.parse(contact.body) as {
        id: string;
        fields: Record<string, { value: unknown }>;
      };
      const mine = server.seen.filter(
        (s) => s.id.startsWith(`sim_${lead.id}_`) || s.id === `sim_acc_${lead.id}_account.created`,
      );
      expect(mine[1]!.id).toBe(`sim_acc_${lead.id}_account.created`);
      const times = mine.slice(2).map((s) => Date.parse(JSON.parse(s.body).occurredAt));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      for (const t of times) expect(t).toBeLessThan(Date.now());
      expect(typeof lead.fields.timezone?.value).toBe("string");
      for (const s of mine.slice(2))
        expect(JSON.parse(s.body)).toMatchObject({ leadId: `lf_${lead.id}` });
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("posts the same leads under the same webhook-ids for the same seed", async () => {
    const server = await stubIngest(() => ({ status: 202 }));
    closers.push(server.close);
    const shape = (body: string) => {
      const { occurredAt: _o, createdAt: _c, updatedAt: _u, ...rest } = JSON.parse(body);
      return rest;
    };
    await simulateLeads({ ingestUrl: server.url, secret, count: 3, ratePerSecond: 100, seed: 7 });
    const first = server.seen.splice(0).map((s) => [s.id, shape(s.body)]);
    await simulateLeads({ ingestUrl: server.url, secret, count: 3, ratePerSecond: 100, seed: 7 });
    const again = server.seen.splice(0).map((s) => [s.id, shape(s.body)]);
    expect(again.map(([id]) => id).sort()).toEqual(first.map(([id]) => id).sort());
    expect(new Map(again as [string, unknown][])).toEqual(new Map(first as [string, unknown][]));
    const other = await simulateLeads({
      ingestUrl: server.url,
      secret,
      count: 3,
      ratePerSecond: 100,
      seed: 8,
    });
    expect(other.prefix).not.toBe("sim-7");
    expect(server.seen.some((s) => first.some(([id]) => id === s.id))).toBe(false);
  });

  it("stops at the deadline and counts the leads it never started as not delivered", async () => {
    const server = await stubIngest(() => ({ status: 202 }));
    closers.push(server.close);
    const summary = await simulateLeads({
      ingestUrl: server.url,
      secret,
      count: 50,
      ratePerSecond: 2,
      seed: 3,
      deadlineMs: 1_200,
    });
    expect(summary.leads.started).toBeGreaterThanOrEqual(2);
    expect(summary.leads.started).toBeLessThan(50);
    expect(summary.deadlineReached).toBe(true);
    expect(summary.undelivered).toBeGreaterThan(0);
    expect(summary.accepted + summary.undelivered).toBe(summary.total);
    expect(summary.undeliveredReasons[0]!.reason).toBe("not attempted: the deadline passed first");
  });
});
