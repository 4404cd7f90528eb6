// The live stream against a real listening server and a real HTTP SSE client, on
// whichever database the caller opens (PGlite in the unit project, PostgreSQL in the
// integration one): resume without gap or repeat (across a restart too), filters, rows
// from another instance, heartbeats, and a slow client cut off with bounded memory.
import type { Db } from "@pw/db";
import { streamEvents } from "@pw/db/gateway";
import { createLogger } from "@pw/logger";
import { waitFor } from "@pw/testkit";
import { asc, gt } from "drizzle-orm";
import Fastify from "fastify";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLiveHub, readModel, registerReadRoutes } from "../src/read/index.ts";
import { bulky, crm, requested, resetReadTables, scored } from "./read-fixtures.ts";
import { openSse, type SseClient } from "./read-sse.ts";

const silent = createLogger({ service: "gateway-test", level: "silent" });

export type OpenDb = () => Promise<{ db: Db; close(): Promise<void> }>;

async function instance(
  db: Db,
  o: { maxQueuedPerClient?: number; pollMs?: number; heartbeatMs?: number } = {},
) {
  const hub = createLiveHub({ db, logger: silent, pollMs: 50, ...o });
  const model = readModel({ db, logger: silent, hub });
  const app = Fastify();
  registerReadRoutes(app, { db, hub, guard: () => async () => {} });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    hub,
    model,
    url: (q = "") => `${base}/api/stream${q}`,
    async stop() {
      await app.close();
      hub.close();
    },
  };
}
type Instance = Awaited<ReturnType<typeof instance>>;

const seqsAfter = async (db: Db, after: number) =>
  (
    await db
      .select({ seq: streamEvents.seq })
      .from(streamEvents)
      .where(gt(streamEvents.seq, after))
      .orderBy(asc(streamEvents.seq))
  ).map((r) => Number(r.seq));
const seqs = (c: SseClient) => c.events().map((e) => e.seq);

export function streamSuite(name: string, open: OpenDb) {
  describe(`live stream (${name})`, () => {
    let handle: Awaited<ReturnType<OpenDb>>;
    const instances: Instance[] = [];
    const clients: SseClient[] = [];
    const start = async (o?: Parameters<typeof instance>[1]) => {
      const gw = await instance(handle.db, o);
      instances.push(gw);
      return gw;
    };
    const connect = async (url: string, o?: Parameters<typeof openSse>[1]) => {
      const c = await openSse(url, o);
      clients.push(c);
      return c;
    };
    beforeAll(async () => {
      handle = await open();
    }, 120_000);
    afterAll(() => handle?.close());
    beforeEach(() => resetReadTables(handle.db));
    afterEach(async () => {
      for (const c of clients.splice(0)) c.close();
      for (const gw of instances.splice(0)) await gw.stop();
    });

    it("a client that reconnects with Last-Event-ID gets exactly what it missed, in order — also from a restarted gateway", async () => {
      const gw = await start();
      const first = await connect(gw.url());
      expect(first.status).toBe(200);
      expect(first.headers["content-type"]).toMatch(/^text\/event-stream/);
      await waitFor(() => gw.hub.clients() === 1);
      for (const l of ["a", "b", "c", "d", "e"]) await gw.model.handle("lead.scored.v1", scored(l));
      await waitFor(() => first.events().length === 5, { message: "5 live events" });
      expect(seqs(first)).toEqual(await seqsAfter(handle.db, 0));
      first.close();
      await waitFor(() => gw.hub.clients() === 0);

      for (const l of ["f", "g", "h", "i", "j"]) await gw.model.handle("lead.scored.v1", scored(l));
      // More are projected while the reconnecting client reads its backlog: the seam.
      const second = await connect(gw.url(), { lastEventId: first.lastId()! });
      for (let i = 0; i < 50; i++) await gw.model.handle("lead.scored.v1", scored(`k${i}`));
      await waitFor(() => second.events().length === 55, { message: "backlog + live" });
      expect(seqs(second)).toEqual(await seqsAfter(handle.db, first.lastId()!));
      expect(second.frames.map((f) => f.id)).toEqual(seqs(second));
      expect(second.events()[0]).toMatchObject({ topic: "lead.scored.v1", subject: "f" });

      // A restart: this gateway stops (ending its streams), another one starts on the
      // same database and projects more; the client resumes there.
      await gw.stop();
      await second.ended;
      const next = await start();
      for (const l of ["x1", "x2", "x3"]) await next.model.handle("lead.scored.v1", scored(l));
      const third = await connect(next.url(), { lastEventId: second.lastId()! });
      await waitFor(() => third.events().length === 3, { message: "events after the restart" });
      expect(third.events().map((e) => e.subject)).toEqual(["x1", "x2", "x3"]);
      await next.model.handle("lead.scored.v1", scored("x4"));
      await waitFor(() => third.events().length === 4);
      expect(seqs(third)).toEqual(await seqsAfter(handle.db, second.lastId()!));
    });

    it("filters by topic and by lead, live and on resume; a bad filter or Last-Event-ID is a 400 naming it", async () => {
      const gw = await start();
      const onlyScored = await connect(gw.url("?topics=lead.scored.v1"));
      const onlyL1 = await connect(gw.url("?lead=L1"));
      const both = await connect(gw.url("?topics=lead.scored.v1,outreach.requested.v1&lead=L1"));
      await waitFor(() => gw.hub.clients() === 3);
      await gw.model.handle("lead.events.v1", crm("L1", { firstName: "Ada" }));
      await gw.model.handle("lead.scored.v1", scored("L1"));
      await gw.model.handle("lead.scored.v1", scored("L2"));
      await gw.model.handle("outreach.requested.v1", requested("L1"));
      await waitFor(() => onlyL1.events().length === 3 && both.events().length === 2);
      await waitFor(() => onlyScored.events().length === 2);
      expect(onlyScored.events().map((e) => e.subject)).toEqual(["L1", "L2"]);
      expect(onlyL1.events().map((e) => e.topic)).toEqual([
        "lead.events.v1",
        "lead.scored.v1",
        "outreach.requested.v1",
      ]);
      expect(both.events().map((e) => e.type)).toEqual(["lead.scored.v1", "outreach.requested.v1"]);

      const resumed = await connect(gw.url("?topics=lead.scored.v1&lastEventId=0"));
      await waitFor(() => resumed.events().length === 2);
      expect(seqs(resumed)).toEqual(seqs(onlyScored));

      const bad = await fetch(gw.url("?topics=lead.scored.v1,nope"));
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
        /^topics/,
      );
      const badId = await fetch(gw.url(), { headers: { "last-event-id": "abc" } });
      expect(badId.status).toBe(400);
      expect(((await badId.json()) as { error: { message: string } }).error.message).toMatch(
        /Last-Event-ID/,
      );
    });

    it("streams rows another gateway instance projected, and sends heartbeats", async () => {
      const a = await start({ heartbeatMs: 50 });
      const b = await start();
      const client = await connect(a.url());
      await waitFor(() => a.hub.clients() === 1);
      await b.model.handle("lead.scored.v1", scored("from-b-1"));
      await a.model.handle("lead.scored.v1", scored("from-a"));
      await b.model.handle("lead.scored.v1", scored("from-b-2"));
      await waitFor(() => client.events().length === 3, { message: "rows of both instances" });
      expect(seqs(client)).toEqual(await seqsAfter(handle.db, 0));
      await waitFor(() => client.comments() >= 2, { message: "heartbeats" });
    });

    it("cuts off a client that does not read once its queue passes the bound, without growing memory; it then resumes losing nothing", async () => {
      const bound = 20;
      const gw = await start({ maxQueuedPerClient: bound });
      const slow = await connect(gw.url(), { read: false });
      await waitFor(() => gw.hub.clients() === 1);
      let maxQueued = 0;
      let cutAfter: number | undefined;
      // Rows of 256 KiB until the client is cut off (the socket buffers fill first), then
      // five times the bound more: the queue for the client that does not read never holds
      // more than the bound, and once it is cut off nothing is kept for it.
      for (let i = 0; i < 2_000; i++) {
        if (cutAfter !== undefined && i >= cutAfter + bound * 5) break;
        await gw.model.handle("lead.events.v1", bulky(`slow${i}`, 256 * 1024));
        maxQueued = Math.max(maxQueued, gw.hub.queued());
        if (cutAfter === undefined && gw.hub.clients() === 0) cutAfter = i + 1;
      }
      expect(cutAfter, "the slow client was cut off").toBeDefined();
      expect(maxQueued).toBeGreaterThan(0);
      expect(maxQueued).toBeLessThanOrEqual(bound);
      expect(gw.hub.queued()).toBe(0);

      slow.read();
      await slow.ended;
      const last = slow.frames.at(-1)!;
      expect(last.event).toBe("overflow");
      expect(last.data).toMatchObject({ lastEventId: slow.lastId() });
      const all = await seqsAfter(handle.db, 0);
      expect(seqs(slow)).toEqual(all.slice(0, slow.events().length));

      const again = await connect(gw.url(), { lastEventId: slow.lastId()! });
      await waitFor(() => again.events().length === all.length - slow.events().length, {
        message: "the rest after the cut-off",
        timeoutMs: 20_000,
      });
      expect([...seqs(slow), ...seqs(again)]).toEqual(all);
    });
  });
}
