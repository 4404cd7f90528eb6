/**
 * The live stream's hub: every SSE connection of this gateway, each with its filter.
 *
 * Rows reach clients strictly in `seq` order with none skipped: a row published with the
 * next seq goes out at once; any gap (a seq burnt by a duplicate, a row another gateway
 * instance wrote) is filled from `gateway.stream_events` first, and the table is also
 * polled while clients are connected, so rows projected by another instance arrive too.
 *
 * A client resuming with Last-Event-ID is registered first (live rows for it are buffered)
 * and then reads its backlog from the table in pages; the buffer is replayed after it,
 * without the rows the backlog already covered — no gap and no repeat at the seam.
 *
 * Memory per connection is bounded: a client whose socket does not drain gets at most
 * `maxQueuedPerClient` rows queued; past that it is sent `event: overflow` and closed, and
 * its EventSource reconnects with its Last-Event-ID and loses nothing.
 */
import type { ServerResponse } from "node:http";
import type { Db } from "@pw/db";
import { streamEvents } from "@pw/db/gateway";
import type { Logger } from "@pw/logger";
import { sql } from "drizzle-orm";
import { matches, rowsAfter, type StreamFilter, type StreamRow } from "./rows.ts";

export type { StreamFilter, StreamRow } from "./rows.ts";

export type LiveConnection = {
  /** Resolves once the backlog was sent and the client is live (or it went away). */
  readonly ready: Promise<void>;
  close(): void;
};

export type LiveHub = {
  /** A row committed by this instance's projection (in seq order). */
  publish(row: StreamRow): void;
  /** Takes over `res` as an SSE stream; writes the head with `headers` added. */
  attach(
    res: ServerResponse,
    o: { filter: StreamFilter; lastEventId?: number; headers?: Record<string, unknown> },
  ): LiveConnection;
  /** Ends every connection and stops the timers. */
  close(): void;
  /** Connected clients, for a gauge. */
  clients(): number;
  /** Rows waiting in memory for slow clients (buffered or queued), across all clients. */
  queued(): number;
};

type Client = {
  res: ServerResponse;
  filter: StreamFilter;
  /** Highest seq sent to (or covered for) this client: anything at or below is dropped. */
  cursor: number;
  /** Highest seq actually handed to the socket. */
  written: number;
  live: boolean;
  /** Live rows that arrived while the backlog was read. */
  buffered: StreamRow[];
  /** Frames waiting for the socket to drain. */
  queue: { seq: number; frame: string }[];
  /** Heartbeats seen while the socket would not drain. */
  stuck: number;
  closed: boolean;
  drained: (() => void)[];
};

const PAGE = 200;
const OVERFLOW_GRACE_MS = 10_000;
/** A socket that has not drained for this many heartbeats is cut off like an overflow. */
const STUCK_HEARTBEATS = 4;

export function frame(row: StreamRow): string {
  return `id: ${row.seq}\nevent: ${row.topic}\ndata: ${JSON.stringify(row)}\n\n`;
}

export function createLiveHub(o: {
  db: Db;
  logger: Logger;
  maxQueuedPerClient?: number;
  heartbeatMs?: number;
  /** How often the table is read for rows other instances wrote (while clients are connected). */
  pollMs?: number;
}): LiveHub {
  const max = o.maxQueuedPerClient ?? 1_000;
  const page = Math.max(1, Math.min(PAGE, max));
  const log = o.logger.child({ component: "live-hub" });
  const clients = new Set<Client>();
  let head: number | undefined;
  let catching: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const initialised = (async () => {
    for (;;) {
      try {
        const [r] = await o.db
          .select({ max: sql<string | number | null>`max(${streamEvents.seq})` })
          .from(streamEvents);
        head ??= Number(r?.max ?? 0);
        return;
      } catch (error) {
        if (closed) return;
        log.warn({ err: error }, "live hub: reading the stream head failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
      }
    }
  })();

  function fanout(row: StreamRow) {
    head = row.seq;
    let f: string | undefined;
    for (const c of clients) {
      if (!matches(c.filter, row)) continue;
      if (c.live) {
        f ??= frame(row);
        deliver(c, row, f);
      } else if (c.buffered.length >= max) overflow(c);
      else c.buffered.push(row);
    }
  }

  /** Reads every committed row after `head` from the table, in order. */
  function catchUp(): Promise<void> {
    if (catching) {
      again = true;
      return catching;
    }
    catching = (async () => {
      await initialised;
      if (head === undefined) return;
      do {
        again = false;
        for (;;) {
          const rows = await rowsAfter(o.db, { after: head, limit: PAGE });
          for (const row of rows) if (row.seq > head) fanout(row);
          if (rows.length < PAGE || closed) break;
        }
      } while (again && !closed);
    })()
      .catch((error) => log.warn({ err: error }, "live hub: catching up failed"))
      .finally(() => {
        catching = undefined;
      });
    return catching;
  }

  function deliver(c: Client, row: StreamRow, f = frame(row)) {
    if (c.closed || row.seq <= c.cursor) return;
    c.cursor = row.seq;
    if (c.queue.length > 0 || c.res.writableNeedDrain) {
      if (c.queue.length >= max) return overflow(c);
      c.queue.push({ seq: row.seq, frame: f });
      return;
    }
    c.res.write(f);
    c.written = row.seq;
  }

  function flush(c: Client) {
    while (c.queue.length > 0 && !c.res.writableNeedDrain && !c.closed) {
      const next = c.queue.shift()!;
      c.res.write(next.frame);
      c.written = next.seq;
    }
    if (c.queue.length === 0 && !c.res.writableNeedDrain) {
      c.stuck = 0;
      for (const resolve of c.drained.splice(0)) resolve();
    }
  }

  function drop(c: Client) {
    if (c.closed) return;
    c.closed = true;
    clients.delete(c);
    c.queue.length = 0;
    c.buffered.length = 0;
    for (const resolve of c.drained.splice(0)) resolve();
  }

  /** Too far behind: tell it where it got to, close, and let it resume from the table. */
  function overflow(c: Client) {
    if (c.closed) return;
    log.info(
      { written: c.written, queued: c.queue.length + c.buffered.length },
      "slow SSE client cut off",
    );
    drop(c);
    c.res.end(
      `event: overflow\ndata: ${JSON.stringify({ lastEventId: c.written, reason: "client too slow: reconnect with Last-Event-ID" })}\n\n`,
    );
    // A socket that never drains would hold its buffers forever.
    const timer = setTimeout(() => c.res.destroy(), OVERFLOW_GRACE_MS);
    timer.unref();
    c.res.once("close", () => clearTimeout(timer));
  }

  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (c.res.writableNeedDrain || c.queue.length > 0) {
        if (++c.stuck >= STUCK_HEARTBEATS) overflow(c);
        continue;
      }
      c.res.write(": heartbeat\n\n");
    }
  }, o.heartbeatMs ?? 15_000);
  heartbeat.unref();
  const poll = setInterval(() => {
    if (clients.size > 0) void catchUp();
  }, o.pollMs ?? 1_000);
  poll.unref();

  async function backlog(c: Client, from: number) {
    let after = from;
    for (;;) {
      const rows = await rowsAfter(o.db, { after, filter: c.filter, limit: page });
      for (const row of rows) deliver(c, row);
      if (c.closed) return;
      if (c.queue.length > 0 || c.res.writableNeedDrain)
        await new Promise<void>((resolve) => c.drained.push(resolve));
      if (c.closed || rows.length < page) break;
      after = rows.at(-1)!.seq;
    }
    c.live = true;
    for (const row of c.buffered.splice(0)) deliver(c, row);
  }

  return {
    publish(row) {
      if (closed) return;
      if (catching || head === undefined) {
        void catchUp();
        return;
      }
      if (row.seq <= head) return;
      if (row.seq === head + 1) return fanout(row);
      void catchUp();
    },
    attach(res, a) {
      const c: Client = {
        res,
        filter: a.filter,
        cursor: a.lastEventId ?? 0,
        written: a.lastEventId ?? 0,
        live: false,
        buffered: [],
        queue: [],
        stuck: 0,
        closed: false,
        drained: [],
      };
      res.writeHead(200, {
        ...a.headers,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.write("retry: 3000\n\n");
      res.on("drain", () => flush(c));
      res.on("close", () => drop(c));
      const ready = (async () => {
        await initialised;
        if (c.closed || closed) return;
        clients.add(c);
        if (a.lastEventId === undefined) {
          // From now on: everything after what this hub has already sent out.
          c.cursor = c.written = head!;
          c.live = true;
          return;
        }
        await backlog(c, a.lastEventId);
      })().catch((error) => {
        log.warn({ err: error }, "SSE backlog failed; closing the stream");
        drop(c);
        res.destroy();
      });
      return {
        ready,
        close: () => {
          drop(c);
          res.end();
        },
      };
    },
    close() {
      closed = true;
      clearInterval(heartbeat);
      clearInterval(poll);
      for (const c of [...clients]) {
        drop(c);
        c.res.end();
      }
    },
    clients: () => clients.size,
    queued: () => {
      let n = 0;
      for (const c of clients) n += c.queue.length + c.buffered.length;
      return n;
    },
  };
}
