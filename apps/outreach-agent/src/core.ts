/**
 * The agent itself, without HTTP: `dispatch(request, idempotencyKey)` sends at most once
 * per key. Fastify's route (routes.ts) and dispatch's in-process mode call the same core.
 *
 * Per key one row in `agent.dispatches`, claimed with an insert that does nothing on
 * conflict — the database decides which of two concurrent callers sends:
 * - claimed → the channel's driver sends; the row becomes `sent` (provider id) or
 *   `failed` (reason). A transient failure deletes the row instead, so a retry sends.
 * - the key exists with another body → 422 `idempotency_key_reused`;
 * - it is final → its answer again, `replayed: true`, nothing sent;
 * - it is `sending` → someone is sending right now: `AgentTransientError("in_progress")`;
 *   unless it has been `sending` for longer than the stale limit — then a crash cut that
 *   send short, nobody knows whether it went out, and the answer is `failed`: a lost touch
 *   is cheaper than a duplicate e-mail (at most once).
 */
import { createHash } from "node:crypto";
import type { Db } from "@pw/db";
import { agentDispatches } from "@pw/db/agent";
import type { Logger } from "@pw/logger";
import { isTransient, sleep } from "@pw/resilience";
import { and, eq, inArray, sql } from "drizzle-orm";
import {
  type AgentChannel,
  type AgentPort,
  AgentRejectedError,
  AgentTransientError,
  DispatchRequest,
  type DispatchResponse,
  IdempotencyKey,
} from "./contract.ts";
import { type ChannelDriver, DriverError, type OutboundMessage } from "./drivers/types.ts";

/** How each call ended, for metrics (`pw_agent_dispatches_total{result}`). */
export type DispatchResult =
  | "sent"
  | "failed"
  | "replayed"
  | "in_progress"
  | "unavailable"
  | "rejected";

export type AgentCoreDeps = {
  db: Db;
  /** One driver per channel it serves; a channel without one is answered `failed`. */
  drivers: Map<AgentChannel, ChannelDriver> | readonly ChannelDriver[];
  logger: Logger;
  now?: () => Date;
  /** A key `sending` for longer was interrupted (default 10 min). */
  sendingStaleMs?: number;
  onResult?: (channel: string, result: DispatchResult) => void;
};

export const DEFAULT_SENDING_STALE_MS = 600_000;
/** What we ask a caller to wait when the channel did not say (503) / a send is running (409). */
export const DEFAULT_UNAVAILABLE_RETRY_MS = 15_000;
export const IN_PROGRESS_RETRY_MS = 2_000;
export const INTERRUPTED_REASON = "interrupted during delivery; not retried to avoid a duplicate";

/**
 * Our id for the send of `key`: derived from the key, so a retry after a transient failure
 * carries the same id — and the same e-mail Message-ID, which lets mail systems drop a
 * duplicate should the failed attempt have been delivered after all.
 */
export function dispatchIdFor(key: string): string {
  const digest = createHash("sha256").update(`pw-agent-dispatch\0${key}`).digest("base64url");
  return `d_${digest.slice(0, 26)}`;
}

/** JSON with object keys sorted at every level: the same request always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function requestHash(request: DispatchRequest): string {
  return createHash("sha256").update(canonicalJson(request)).digest("hex");
}

/** The request checked against the contract, or the 400 naming the first bad field. */
export function validateRequest(
  request: unknown,
  idempotencyKey: unknown,
): { request: ReturnType<typeof DispatchRequest.parse>; key: string } {
  if (idempotencyKey === undefined || idempotencyKey === null || idempotencyKey === "")
    throw new AgentRejectedError(
      "the Idempotency-Key header is required",
      400,
      "invalid_request",
      "Idempotency-Key",
    );
  const key = IdempotencyKey.safeParse(idempotencyKey);
  if (!key.success)
    throw new AgentRejectedError(
      `Idempotency-Key: ${key.error.issues[0]?.message ?? "invalid"} (1-255 printable ASCII characters)`,
      400,
      "invalid_request",
      "Idempotency-Key",
    );
  if (request === null || typeof request !== "object" || Array.isArray(request))
    throw new AgentRejectedError("the body must be a JSON object", 400, "invalid_request");
  const parsed = DispatchRequest.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join(".");
    const missing = issue.code === "invalid_type" && valueAt(request, issue.path) === undefined;
    throw new AgentRejectedError(
      missing ? `${field} is required` : `${field}: ${issue.message}`,
      400,
      "invalid_request",
      field || undefined,
    );
  }
  return { request: parsed.data, key: key.data };
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const step of path) {
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<PropertyKey, unknown>)[step];
  }
  return at;
}

type Row = typeof agentDispatches.$inferSelect;

function answerOf(row: Row, replayed: boolean): DispatchResponse {
  return {
    dispatchId: row.dispatchId,
    status: row.state === "sent" ? "sent" : "failed",
    ...(row.providerMessageId ? { providerMessageId: row.providerMessageId } : {}),
    ...(row.error ? { reason: row.error.slice(0, 500) } : {}),
    ...(replayed ? { replayed: true } : {}),
  };
}

export type AgentCore = AgentPort & {
  /** The drivers by channel (readiness checks, the start log). */
  readonly drivers: ReadonlyMap<AgentChannel, ChannelDriver>;
};

export function createAgentCore(deps: AgentCoreDeps): AgentCore {
  const { db, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const staleMs = deps.sendingStaleMs ?? DEFAULT_SENDING_STALE_MS;
  const drivers: Map<AgentChannel, ChannelDriver> =
    deps.drivers instanceof Map
      ? deps.drivers
      : new Map((deps.drivers as readonly ChannelDriver[]).map((d) => [d.channel, d]));
  const report = (channel: string, result: DispatchResult) => deps.onResult?.(channel, result);

  /** Sets the final state of a claimed key; retried briefly, since the message is already out. */
  async function finish(
    key: string,
    values: { state: "sent" | "failed"; providerMessageId?: string; error?: string },
  ): Promise<Row> {
    for (let attempt = 1; ; attempt++) {
      try {
        const [row] = await db
          .update(agentDispatches)
          .set({
            state: values.state,
            providerMessageId: values.providerMessageId ?? null,
            error: values.error?.slice(0, 2_000) ?? null,
            updatedAt: now(),
          })
          .where(and(eq(agentDispatches.idempotencyKey, key), eq(agentDispatches.state, "sending")))
          .returning();
        if (!row) throw new Error(`idempotency key ${key} was not sending any more`);
        return row;
      } catch (error) {
        if (attempt >= 3 || !isTransient(error)) {
          // The row stays `sending`: retries get 409 until it is stale, then `failed` —
          // never a second send.
          logger.error(
            { err: error, key, state: values.state },
            "send done but its outcome could not be recorded",
          );
          throw new AgentTransientError(
            `outcome not recorded (${(error as Error).message}); the key stays reserved`,
            IN_PROGRESS_RETRY_MS,
          );
        }
        await sleep(100 * 3 ** attempt);
      }
    }
  }

  /** Gives a key back after a transient failure, so that a retry sends. */
  async function release(key: string): Promise<void> {
    try {
      await db
        .delete(agentDispatches)
        .where(and(eq(agentDispatches.idempotencyKey, key), eq(agentDispatches.state, "sending")));
    } catch (error) {
      // Left `sending`, it turns `failed` (interrupted) once stale: at most once still holds.
      logger.error({ err: error, key }, "could not release the key after a transient failure");
    }
  }

  async function deliver(
    request: ReturnType<typeof DispatchRequest.parse>,
    key: string,
    dispatchId: string,
  ): Promise<DispatchResponse> {
    const log = logger.child({ dispatchId, leadId: request.leadId, channel: request.channel });
    const driver = drivers.get(request.channel);
    if (!driver) {
      const row = await finish(key, {
        state: "failed",
        error: `channel ${request.channel} not configured`,
      });
      log.warn("channel not configured: answered failed");
      report(request.channel, "failed");
      return answerOf(row, false);
    }
    let providerMessageId: string;
    try {
      ({ providerMessageId } = await driver.send({
        dispatchId,
        leadId: request.leadId,
        channel: request.channel,
        to: request.to,
        subject: request.subject,
        body: request.body,
        metadata: request.metadata,
      }));
    } catch (error) {
      const verdict =
        error instanceof DriverError
          ? error
          : new DriverError((error as Error).message ?? String(error), isTransient(error), {
              cause: error,
            });
      if (verdict.transient) {
        await release(key);
        log.warn({ reason: verdict.message }, "channel unavailable: key released for a retry");
        report(request.channel, "unavailable");
        throw new AgentTransientError(
          verdict.message,
          verdict.retryAfterMs ?? DEFAULT_UNAVAILABLE_RETRY_MS,
        );
      }
      if (!(error instanceof DriverError)) log.error({ err: error }, "driver failed unexpectedly");
      const row = await finish(key, { state: "failed", error: verdict.message });
      log.info({ reason: verdict.message }, "refused by the channel");
      report(request.channel, "failed");
      return answerOf(row, false);
    }
    const row = await finish(key, { state: "sent", providerMessageId });
    log.info({ providerMessageId, driver: driver.kind }, "sent");
    report(request.channel, "sent");
    return answerOf(row, false);
  }

  async function dispatch(raw: DispatchRequest, idempotencyKey: string): Promise<DispatchResponse> {
    let validated: ReturnType<typeof validateRequest>;
    try {
      validated = validateRequest(raw, idempotencyKey);
    } catch (error) {
      const channel = (raw as { channel?: unknown } | null)?.channel;
      report(typeof channel === "string" && channel.length < 20 ? channel : "unknown", "rejected");
      throw error;
    }
    const { request, key } = validated;
    const hash = requestHash(request);
    const dispatchId = dispatchIdFor(key);

    // A few rounds: a row seen a moment ago may be released or finished by now.
    for (let round = 0; round < 3; round++) {
      const at = now();
      const claimed = await db
        .insert(agentDispatches)
        .values({
          idempotencyKey: key,
          dispatchId,
          requestHash: hash,
          leadId: request.leadId,
          channel: request.channel,
          state: "sending",
          createdAt: at,
          updatedAt: at,
        })
        // No conflict target: dispatch_id is unique too (and derived from the key), and with
        // only the key as arbiter a concurrent claim fails on that index instead of yielding.
        .onConflictDoNothing()
        .returning({ dispatchId: agentDispatches.dispatchId });
      if (claimed.length > 0) return deliver(request, key, dispatchId);

      const [row] = await db
        .select()
        .from(agentDispatches)
        .where(eq(agentDispatches.idempotencyKey, key));
      if (!row) continue; // released by a transient failure in between: claim it again
      if (row.requestHash !== hash) {
        report(request.channel, "rejected");
        throw new AgentRejectedError(
          "this Idempotency-Key was used with another request body",
          422,
          "idempotency_key_reused",
        );
      }
      if (row.state !== "sending") {
        report(request.channel, "replayed");
        return answerOf(row, true);
      }
      if (at.getTime() - row.updatedAt.getTime() < staleMs) {
        report(request.channel, "in_progress");
        throw new AgentTransientError("in_progress", IN_PROGRESS_RETRY_MS);
      }
      // Conditional on the very row we saw: two callers cannot both decide its fate.
      const [failed] = await db
        .update(agentDispatches)
        .set({ state: "failed", error: INTERRUPTED_REASON, updatedAt: at })
        .where(
          and(
            eq(agentDispatches.idempotencyKey, key),
            eq(agentDispatches.state, "sending"),
            eq(agentDispatches.updatedAt, row.updatedAt),
          ),
        )
        .returning();
      if (failed) {
        logger.warn(
          { dispatchId, leadId: request.leadId, channel: request.channel },
          "send interrupted (stale key): answered failed, not sent again",
        );
        report(request.channel, "replayed");
        return answerOf(failed, true);
      }
    }
    report(request.channel, "in_progress");
    throw new AgentTransientError("in_progress", IN_PROGRESS_RETRY_MS);
  }

  /**
   * `dispatch` for many keys in a few statements: one insert claims every new key, each
   * channel's messages go to its driver together (`sendMany` where it has one), one update
   * records the outcomes. A key that is not new takes the single path (replay, in
   * progress, reused), as does everything when the batch statement itself fails.
   */
  async function dispatchMany(
    items: { request: DispatchRequest; idempotencyKey: string }[],
  ): Promise<(DispatchResponse | Error)[]> {
    const results = new Array<DispatchResponse | Error>(items.length);
    const valid: { i: number; request: ReturnType<typeof DispatchRequest.parse>; key: string }[] =
      [];
    for (const [i, item] of items.entries()) {
      try {
        const v = validateRequest(item.request, item.idempotencyKey);
        valid.push({ i, request: v.request, key: v.key });
      } catch (error) {
        results[i] = error as Error;
      }
    }
    const at = now();
    const byKey = new Map(valid.map((v) => [v.key, v]));
    let claimed: Set<string>;
    try {
      const rows = valid.length
        ? await db
            .insert(agentDispatches)
            .values(
              [...byKey.values()].map((v) => ({
                idempotencyKey: v.key,
                dispatchId: dispatchIdFor(v.key),
                requestHash: requestHash(v.request),
                leadId: v.request.leadId,
                channel: v.request.channel,
                state: "sending" as const,
                createdAt: at,
                updatedAt: at,
              })),
            )
            .onConflictDoNothing()
            .returning({ key: agentDispatches.idempotencyKey })
        : [];
      claimed = new Set(rows.map((r) => r.key));
    } catch (error) {
      if (!isTransient(error)) throw error;
      const e = new AgentTransientError(
        `agent storage unavailable: ${(error as Error).message}`,
        DEFAULT_UNAVAILABLE_RETRY_MS,
      );
      for (const v of valid) results[v.i] = e;
      return results;
    }
    const mine = valid.filter((v) => claimed.has(v.key) && byKey.get(v.key) === v);
    const others = valid.filter((v) => !mine.includes(v));
    const single = Promise.all(
      others.map(async (v) => {
        try {
          results[v.i] = await dispatch(v.request, v.key);
        } catch (error) {
          results[v.i] = error as Error;
        }
      }),
    );

    const outcomes: { key: string; state: "sent" | "failed"; pmid?: string; error?: string }[] = [];
    const releasedKeys: string[] = [];
    const groups = new Map<AgentChannel, typeof mine>();
    for (const v of mine)
      groups.set(v.request.channel, [...(groups.get(v.request.channel) ?? []), v]);
    const transient = new Map<string, AgentTransientError>();
    await Promise.all(
      [...groups].map(async ([channel, group]) => {
        const driver = drivers.get(channel);
        if (!driver) {
          for (const v of group)
            outcomes.push({
              key: v.key,
              state: "failed",
              error: `channel ${channel} not configured`,
            });
          return;
        }
        const message = (v: (typeof group)[number]): OutboundMessage => ({
          dispatchId: dispatchIdFor(v.key),
          leadId: v.request.leadId,
          channel: v.request.channel,
          to: v.request.to,
          subject: v.request.subject,
          body: v.request.body,
          metadata: v.request.metadata,
        });
        const settle = (v: (typeof group)[number], error: unknown) => {
          const verdict =
            error instanceof DriverError
              ? error
              : new DriverError((error as Error).message ?? String(error), isTransient(error));
          if (verdict.transient) {
            releasedKeys.push(v.key);
            transient.set(
              v.key,
              new AgentTransientError(
                verdict.message,
                verdict.retryAfterMs ?? DEFAULT_UNAVAILABLE_RETRY_MS,
              ),
            );
          } else outcomes.push({ key: v.key, state: "failed", error: verdict.message });
        };
        if (driver.sendMany) {
          try {
            const sent = await driver.sendMany(group.map(message));
            for (const [j, v] of group.entries())
              outcomes.push({ key: v.key, state: "sent", pmid: sent[j]!.providerMessageId });
          } catch (error) {
            for (const v of group) settle(v, error);
          }
          return;
        }
        // One connection's worth at a time per channel: a live channel is not flooded.
        for (let j = 0; j < group.length; j += 16)
          await Promise.all(
            group.slice(j, j + 16).map(async (v) => {
              try {
                const { providerMessageId } = await driver.send(message(v));
                outcomes.push({ key: v.key, state: "sent", pmid: providerMessageId });
              } catch (error) {
                settle(v, error);
              }
            }),
          );
      }),
    );

    if (releasedKeys.length > 0)
      await db
        .delete(agentDispatches)
        .where(
          and(
            inArray(agentDispatches.idempotencyKey, releasedKeys),
            eq(agentDispatches.state, "sending"),
          ),
        )
        .catch((error) =>
          logger.error({ err: error }, "could not release keys after a transient failure"),
        );
    let recorded = new Set<string>();
    if (outcomes.length > 0) {
      const json = JSON.stringify(
        outcomes.map((o) => ({
          key: o.key,
          state: o.state,
          pmid: o.pmid ?? null,
          error: o.error?.slice(0, 2_000) ?? null,
        })),
      );
      try {
        const done = (await db.execute(
          sql`update agent.dispatches d
              set state = v.state, provider_message_id = v.pmid, error = v.error, updated_at = ${now().toISOString()}::timestamptz
              from jsonb_to_recordset(${json}::jsonb) as v(key text, state text, pmid text, error text)
              where d.idempotency_key = v.key and d.state = 'sending'
              returning d.idempotency_key as key`,
        )) as unknown as { rows: { key: string }[] };
        recorded = new Set(done.rows.map((r) => r.key));
      } catch (error) {
        // The messages are out: the keys stay `sending` (409, then failed when stale).
        logger.error({ err: error }, "sends done but their outcomes could not be recorded");
      }
    }
    for (const o of outcomes) {
      const v = byKey.get(o.key)!;
      report(v.request.channel, o.state);
      results[v.i] = recorded.has(o.key)
        ? {
            dispatchId: dispatchIdFor(o.key),
            status: o.state,
            ...(o.pmid ? { providerMessageId: o.pmid } : {}),
            ...(o.error ? { reason: o.error.slice(0, 500) } : {}),
          }
        : new AgentTransientError(
            "outcome not recorded; the key stays reserved",
            IN_PROGRESS_RETRY_MS,
          );
    }
    for (const [key, error] of transient) {
      const v = byKey.get(key)!;
      report(v.request.channel, "unavailable");
      results[v.i] = error;
    }
    await single;
    return results;
  }

  return {
    drivers,
    dispatchMany,
    async dispatch(request, idempotencyKey) {
      try {
        return await dispatch(request, idempotencyKey);
      } catch (error) {
        if (error instanceof AgentTransientError || error instanceof AgentRejectedError)
          throw error;
        // The database is unreachable or restarting: the caller should come back.
        if (isTransient(error))
          throw new AgentTransientError(
            `agent storage unavailable: ${(error as Error).message}`,
            DEFAULT_UNAVAILABLE_RETRY_MS,
          );
        throw error;
      }
    },
    async close() {
      await Promise.all([...drivers.values()].map((d) => d.close?.()));
    },
  };
}
