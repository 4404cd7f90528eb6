// The read routes through `app.inject`, on whichever database the caller opens, with a guard that lets
// everyone in (but must be asked for the viewer role): filters, pagination, 404s, and a
// 400 naming each bad field.
import { createLogger } from "@pw/logger";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLiveHub, type LiveHub, readModel, registerReadRoutes } from "../src/read/index.ts";
import {
  at,
  changeDetected,
  crm,
  dispatched,
  outcome,
  requested,
  scored,
  segmentBlocked,
  snapshot,
  statusChanged,
} from "./read-fixtures.ts";
import type { OpenDb } from "./read-stream-suite.ts";

// biome-ignore lint/suspicious/noExplicitAny: responses are asserted field by field
type Body = any;
const silent = createLogger({ service: "gateway-test", level: "silent" });

export function routesSuite(name: string, open: OpenDb) {
  describe(`read routes (${name})`, () => {
    let handle: Awaited<ReturnType<OpenDb>>;
    let hub: LiveHub;
    let app: FastifyInstance;
    let model: ReturnType<typeof readModel>;
    const roles: string[] = [];
    const get = async (url: string) => {
      const res = await app.inject({ method: "GET", url });
      return { status: res.statusCode, body: res.json() as Body };
    };
    const rightNow = () => new Date().toISOString();

    beforeAll(async () => {
      handle = await open();
      hub = createLiveHub({ db: handle.db, logger: silent });
      model = readModel({ db: handle.db, logger: silent, hub });
      app = Fastify();
      registerReadRoutes(app, {
        db: handle.db,
        hub,
        // Lets everyone in, except a request that says it must not be (proves the guard runs).
        guard: (role) => {
          roles.push(role);
          return async (req, reply) => {
            if (req.headers["x-test-deny"]) await reply.code(401).send({ denied: role });
          };
        },
      });
      await app.ready();
      const leads: [string, string, number, "hot" | "warm" | "cold", string][] = [
        ["a1", "Ada", 90, "hot", "vp_mid"],
        ["a2", "Alan", 60, "warm", "vp_mid"],
        ["a3", "Grace", 30, "cold", "eng_smb"],
        ["a4", "Barbara", 75, "hot", "eng_smb"],
        ["a5", "Edsger", 50, "warm", "vp_mid"],
      ];
      for (const [id, firstName, score, tier, segment] of leads) {
        await model.handle(
          "lead.events.v1",
          crm(id, { firstName, company: `${firstName} Corp`, email: `${id}@x.io` }, at(0), {
            time: rightNow(),
          }),
        );
        await model.handle(
          "lead.scored.v1",
          scored(id, { score, tier, segment }, { time: rightNow() }),
        );
      }
      await model.handle(
        "outreach.requested.v1",
        requested("a3", { priority: 95 }, { time: rightNow() }),
      );
      await model.handle(
        "outreach.dispatched.v1",
        dispatched("a3", { status: "sent" }, { time: rightNow() }),
      );
      await model.handle(
        "outreach.dispatched.v1",
        dispatched("a1", {
          status: "skipped",
          reason: "quiet hours",
          channel: "linkedin",
          variantId: "story",
        }),
      );
      await model.handle(
        "outreach.dispatched.v1",
        dispatched("a2", { status: "deferred" }, { time: rightNow() }),
      );
      await model.handle(
        "outreach.outcomes.v1",
        outcome("a3", "converted", {}, { time: rightNow() }),
      );
      await model.handle(
        "experiment.updates.v1",
        snapshot(
          "vp_mid",
          [
            { variantId: "roi", exposures: 40, successes: 1, pBest: 0.2 },
            { variantId: "story", exposures: 60, successes: 5, pBest: 0.8 },
          ],
          at(10),
        ),
      );
      await model.handle(
        "experiment.updates.v1",
        snapshot(
          "vp_mid",
          [
            { variantId: "roi", exposures: 100, successes: 2, pBest: 0.02 },
            { variantId: "story", exposures: 300, successes: 24, pBest: 0.98 },
          ],
          at(20),
        ),
      );
      await model.handle(
        "experiment.updates.v1",
        statusChanged(
          "vp_mid",
          "roi",
          "active",
          "suppressed",
          "P(best) under 5% after 100 sends",
          at(21),
        ),
      );
      await model.handle(
        "experiment.updates.v1",
        snapshot("eng_smb", [{ variantId: "pain", exposures: 10, successes: 0, pBest: 1 }], at(20)),
      );
      await model.handle(
        "experiment.updates.v1",
        statusChanged(
          "eng_smb",
          "pain",
          "active",
          "paused",
          "paused for a copy review",
          at(22),
          "operator",
        ),
      );
    });
    afterAll(async () => {
      await app.close();
      hub.close();
      await handle.close();
    });

    it("every route is behind the guard, asked for the viewer role", async () => {
      expect(new Set(roles)).toEqual(new Set(["viewer"]));
      for (const url of [
        "/api/leads",
        "/api/leads/a1",
        "/api/leads/a1/journey",
        "/api/experiments",
        "/api/experiments/vp_mid/history",
        "/api/outreach",
        "/api/funnel",
        "/api/feed",
        "/api/stream",
      ]) {
        const res = await app.inject({ method: "GET", url, headers: { "x-test-deny": "1" } });
        expect(res.statusCode, url).toBe(401);
        expect(res.json(), url).toEqual({ denied: "viewer" });
      }
    });

    it("GET /api/leads: by priority then score, filtered, searched, paginated with a cursor", async () => {
      const all = await get("/api/leads");
      expect(all.status).toBe(200);
      expect(all.body.items.map((l: { leadId: string }) => l.leadId)).toEqual([
        "a3",
        "a1",
        "a4",
        "a2",
        "a5",
      ]);
      expect(all.body.items[0]).toMatchObject({
        name: "Grace",
        status: "converted",
        priority: 95,
        tier: "cold",
      });
      expect(
        (await get("/api/leads?tier=hot")).body.items.map((l: { leadId: string }) => l.leadId),
      ).toEqual(["a1", "a4"]);
      expect((await get("/api/leads?segment=eng_smb&status=scored")).body.items).toHaveLength(1);
      expect(
        (await get("/api/leads?q=alan")).body.items.map((l: { leadId: string }) => l.leadId),
      ).toEqual(["a2"]);
      expect((await get("/api/leads?q=100%25")).body.items).toEqual([]);
      expect((await get("/api/leads?status=")).body.items).toHaveLength(5);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await get(`/api/leads?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((l: { leadId: string }) => l.leadId));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(["a3", "a1", "a4", "a2", "a5"]);

      for (const [query, field] of [
        ["limit=0", "limit"],
        ["limit=abc", "limit"],
        ["tier=lukewarm", "tier"],
        ["status=queued", "status"],
        ["cursor=nope", "cursor"],
      ]) {
        const bad = await get(`/api/leads?${query}`);
        expect(bad.status, query).toBe(400);
        expect(bad.body.error).toMatchObject({ status: 400, code: "invalid_request" });
        expect(bad.body.error.issues[0].path, query).toBe(field);
        expect(bad.body.error.message, query).toMatch(new RegExp(`^${field}: `));
      }
    });

    it("GET /api/leads/:leadId and its journey (oldest first); 404 for an unknown lead, 400 for a bad id", async () => {
      expect((await get("/api/leads/a3")).body).toMatchObject({
        leadId: "a3",
        name: "Grace",
        score: 30,
      });
      expect((await get("/api/leads/nobody")).status).toBe(404);
      expect((await get("/api/leads/bad%20id")).status).toBe(400);
      const journey = await get("/api/leads/a3/journey");
      expect(journey.body.events.map((e: { type: string }) => e.type)).toEqual([
        "lead.crm_record_changed.v1",
        "lead.scored.v1",
        "outreach.requested.v1",
        "outreach.dispatched.v1",
        "outreach.outcome.v1",
      ]);
      const firstTwo = await get("/api/leads/a3/journey?limit=2");
      expect(firstTwo.body.events).toHaveLength(2);
      const rest = await get(`/api/leads/a3/journey?after=${firstTwo.body.nextCursor}`);
      expect(rest.body.events).toHaveLength(3);
      expect((await get("/api/leads/nobody/journey")).status).toBe(404);
      expect((await get("/api/leads/a3/journey?limit=-1")).body.error.issues[0].path).toBe("limit");
    });

    it("GET /api/experiments: arms grouped by segment with traffic share; ?segment filters", async () => {
      const res = await get("/api/experiments");
      expect(res.body.segments.map((s: { segment: string }) => s.segment)).toEqual([
        "eng_smb",
        "vp_mid",
      ]);
      const vp = res.body.segments[1];
      expect(vp.exposures).toBe(400);
      expect(vp.arms).toMatchObject([
        { variantId: "story", exposures: 300, successes: 24, status: "active", share: 0.75 },
        {
          variantId: "roi",
          exposures: 100,
          status: "suppressed",
          statusReason: "P(best) under 5% after 100 sends",
          share: 0.25,
        },
      ]);
      const one = await get("/api/experiments?segment=eng_smb");
      expect(one.body.segments).toHaveLength(1);
      expect(one.body.segments[0].arms[0]).toMatchObject({ variantId: "pain", status: "paused" });
    });

    it("GET /api/experiments/:segment/history: exposures per variant per snapshot, oldest first", async () => {
      const res = await get("/api/experiments/vp_mid/history");
      expect(res.body.snapshots).toMatchObject([
        {
          at: at(10),
          total: 100,
          exposures: { roi: 40, story: 60 },
          share: { roi: 0.4, story: 0.6 },
        },
        { at: at(20), total: 400, exposures: { roi: 100, story: 300 } },
      ]);
      expect((await get("/api/experiments/nothing/history")).body.snapshots).toEqual([]);
      expect((await get("/api/experiments/vp_mid/history?limit=1")).body.snapshots).toMatchObject([
        { at: at(20) },
      ]);
      expect((await get("/api/experiments/vp_mid/history?limit=x")).body.error.issues[0].path).toBe(
        "limit",
      );
    });

    it("GET /api/outreach: dispatch verdicts newest first, filtered, paginated", async () => {
      const all = await get("/api/outreach");
      expect(all.body.items.map((i: { leadId: string }) => i.leadId)).toEqual(["a2", "a1", "a3"]);
      expect((await get("/api/outreach?status=skipped")).body.items).toMatchObject([
        {
          leadId: "a1",
          status: "skipped",
          reason: "quiet hours",
          channel: "linkedin",
          variantId: "story",
        },
      ]);
      expect((await get("/api/outreach?channel=email&variantId=roi")).body.items).toHaveLength(2);
      const page = await get("/api/outreach?limit=2");
      expect(page.body.items).toHaveLength(2);
      const next = await get(`/api/outreach?limit=2&cursor=${page.body.nextCursor}`);
      expect(next.body.items.map((i: { leadId: string }) => i.leadId)).toEqual(["a3"]);
      expect(next.body.nextCursor).toBeNull();
      expect((await get("/api/outreach?channel=fax")).body.error.issues[0].path).toBe("channel");
    });

    it("GET /api/funnel: counts per bucket of received, scored, requested, sent, converted", async () => {
      const res = await get("/api/funnel?bucket=day");
      expect(res.body.bucket).toBe("day");
      expect(res.body.series).toHaveLength(30);
      const sum = (series: Record<string, number>[], key: string) =>
        series.reduce((n, b) => n + (b[key] ?? 0), 0);
      expect(
        Object.fromEntries(
          ["received", "scored", "requested", "sent", "converted"].map((k) => [
            k,
            sum(res.body.series, k),
          ]),
        ),
      ).toEqual({ received: 5, scored: 5, requested: 1, sent: 1, converted: 1 });
      const minutes = await get("/api/funnel?bucket=minute");
      const totals = minutes.body.series.reduce(
        (n: number, b: { received: number }) => n + b.received,
        0,
      );
      expect(totals).toBe(5);
      expect((await get("/api/funnel?bucket=week")).body.error.issues[0].path).toBe("bucket");
      expect((await get("/api/funnel?since=yesterday")).body.error.issues[0].path).toBe("since");
      expect(
        (await get("/api/funnel?bucket=minute&since=2020-01-01T00:00:00Z")).body.error.issues[0]
          .path,
      ).toBe("since");
    });

    it("GET /api/feed: plain sentences with their numbers, newest first", async () => {
      const res = await get("/api/feed");
      expect(res.body.items).toMatchObject([
        {
          kind: "variant_paused",
          segment: "eng_smb",
          variantId: "pain",
          by: "operator",
          sentence:
            "Paused 'pain' for eng_smb (by an operator): paused for a copy review (P(best) 100%, 0 of 10 sends succeeded, rate 8.3%)",
        },
        {
          kind: "variant_suppressed",
          segment: "vp_mid",
          variantId: "roi",
          reason: "P(best) under 5% after 100 sends",
          numbers: { exposures: 100, successes: 2, pBest: 0.02 },
          evidence: "/api/experiments/vp_mid/history",
        },
      ]);
      expect(res.body.items[1].sentence).toBe(
        "Suppressed 'roi' for vp_mid: P(best) under 5% after 100 sends (P(best) 2.0%, 2 of 100 sends succeeded, rate 2.9%)",
      );
      const page = await get("/api/feed?limit=1");
      expect(page.body.items).toHaveLength(1);
      expect((await get(`/api/feed?cursor=${page.body.nextCursor}`)).body.items[0].variantId).toBe(
        "roi",
      );
      expect((await get("/api/feed?limit=1000")).body.error.issues[0].path).toBe("limit");
    });

    it("GET /api/feed: a segment that can send nothing, and when it can again, in the engine's words", async () => {
      await model.handle(
        "experiment.updates.v1",
        segmentBlocked(
          "eng_smb",
          true,
          "Nothing can be sent in eng_smb: every variant is paused or suppressed — pain paused (a copy review).",
          at(30),
        ),
      );
      await model.handle(
        "experiment.updates.v1",
        segmentBlocked(
          "eng_smb",
          false,
          "eng_smb can send again (pain resumed): pain may be chosen.",
          at(31),
        ),
      );
      const items = (await get("/api/feed?limit=3")).body.items;
      expect(items.slice(0, 2)).toMatchObject([
        {
          kind: "segment_unblocked",
          segment: "eng_smb",
          to: "sending",
          sentence: "eng_smb can send again (pain resumed): pain may be chosen.",
        },
        {
          kind: "segment_blocked",
          segment: "eng_smb",
          to: "blocked",
          sentence: expect.stringContaining("Nothing can be sent in eng_smb"),
        },
      ]);
      expect(items[2].kind).toBe("variant_paused");
    });

    it("GET /api/feed: a change in the market, in the engine's words, linking to the segment", async () => {
      const reason =
        "The market moved in eng_smb: recent rate per send 'pain' 5.0% → 2.0%. Learning starts over from recent outcomes; re-testing 'roi'.";
      await model.handle("experiment.updates.v1", changeDetected("eng_smb", reason, at(33)));
      const [item] = (await get("/api/feed?limit=1")).body.items;
      expect(item).toMatchObject({
        kind: "change_detected",
        segment: "eng_smb",
        to: "relearning",
        sentence: reason,
        evidence: "/api/experiments/eng_smb/history",
      });
    });
  });
}
