"use client";
/**
 * Health: every service instance's readiness in words (ready / not ready / not heard for
 * N s), its checks with their reasons, consumer lag, outbox lag and what it parked in a
 * DLQ; then the DLQ messages themselves, each with a Redrive button. Live: readiness
 * changes arrive on the stream, and the heartbeats (kept by the gateway, not streamed)
 * are re-read every few seconds while the tab is visible.
 */
import { useEffect, useState } from "react";
import { ApiView } from "../../components/api-view.tsx";
import { usePoll } from "../../components/poll.ts";
import { Ago } from "../../components/time.tsx";
import { Card, Empty, PageHeader } from "../../components/ui.tsx";
import { useNow } from "../../components/use-now.ts";
import { count, duration, when } from "../../lib/format.ts";
import { TOPICS } from "../../lib/topics.ts";
import { useApi } from "../../lib/use-api.ts";
import { DlqTable } from "./dlq-table.tsx";
import { type Check, type Health, type Instance, health as readHealth } from "./shapes.ts";

const HEALTH_POLL_MS = 5_000;

export default function HealthPage() {
  const health = useApi<unknown>("/api/health", {
    live: [TOPICS.serviceHealth],
    throttleMs: 1_000,
  });
  usePoll(health.reload, HEALTH_POLL_MS);
  const now = useNow(1_000);
  // "Not heard for N s" counts from the gateway's answer (its clock), plus the time since.
  const [receivedAt, setReceivedAt] = useState(() => Date.now());
  useEffect(() => {
    if (health.data !== undefined) setReceivedAt(Date.now());
  }, [health.data]);
  const h: Health | undefined = health.data === undefined ? undefined : readHealth(health.data);
  const list = h?.instances ?? [];
  const clock = { now, receivedAt };
  return (
    <>
      <PageHeader title="Health">{h ? <Summary h={h} /> : null}</PageHeader>
      <Card id="services" title="Services">
        <ApiView state={health} what="service health" route="GET /api/health">
          {() =>
            list.length === 0 ? (
              <Empty title="No service has reported yet.">
                Services send a heartbeat every few seconds once they start. If this stays empty,
                check that they are running and can reach the broker.
              </Empty>
            ) : (
              <ul className="health-grid">
                {sortInstances(list).map((i) => (
                  <InstanceCard key={`${i.service}/${i.instance}`} i={i} clock={clock} />
                ))}
              </ul>
            )
          }
        </ApiView>
      </Card>
      <DlqTable />
    </>
  );
}

type Readiness = { word: string; tone: "ok" | "warn" | "bad"; mark: string };

type Clock = { now: number; receivedAt: number };

/** How long the instance has been silent, in ms (undefined: unknown). */
function silence(i: Instance, c: Clock): number | undefined {
  if (i.silentMs !== undefined) return i.silentMs + Math.max(0, c.now - c.receivedAt);
  const heard = i.lastHeardAt ? Date.parse(i.lastHeardAt) : Number.NaN;
  return Number.isFinite(heard) ? Math.max(0, c.now - heard) : undefined;
}

function readiness(i: Instance, c: Clock): Readiness {
  if (i.stale) {
    const ms = silence(i, c);
    return {
      word: ms === undefined ? "not heard from" : `not heard for ${duration(ms / 1000)}`,
      tone: "bad",
      mark: "✕",
    };
  }
  return i.ready
    ? { word: "ready", tone: "ok", mark: "✓" }
    : { word: "not ready", tone: "bad", mark: "✕" };
}

function Summary({ h }: { h: Health }) {
  const list = h.instances;
  const gatewayDown = h.gateway && !h.gateway.ready;
  if (list.length === 0 && !gatewayDown) return null;
  const ready = list.filter((i) => i.ready && !i.stale).length;
  const stale = list.filter((i) => i.stale).length;
  const notReady = list.length - ready - stale;
  const services = new Set(list.map((i) => i.service)).size;
  const dlq = list.reduce((n, i) => n + (i.dlq?.sent ?? 0), 0);
  const parts = [
    `${ready} of ${list.length} instance${list.length === 1 ? "" : "s"} (${services} service${services === 1 ? "" : "s"}) ready`,
    notReady ? `${notReady} not ready` : "",
    stale ? `${stale} not heard from` : "",
    dlq ? `${count(dlq)} message${dlq === 1 ? "" : "s"} parked in DLQs since start` : "",
    gatewayDown
      ? `the gateway answering this page is not ready (${downChecks(h.gateway?.checks ?? [])})`
      : "",
  ].filter(Boolean);
  const tone = notReady || stale || gatewayDown ? "bad" : dlq ? "warn" : "ok";
  return (
    <p className={`health-summary tone-${tone}`} role="status" aria-live="polite">
      <span aria-hidden="true">{tone === "ok" ? "✓ " : "⚠ "}</span>
      {parts.join(" · ")}
    </p>
  );
}

function InstanceCard({ i, clock }: { i: Instance; clock: Clock }) {
  const now = clock.now;
  const r = readiness(i, clock);
  const silent = silence(i, clock);
  const down = i.checks.filter((c) => c.status !== "ok");
  return (
    <li className={`instance instance-${r.tone}`}>
      <div className="instance-head">
        <h3>
          {i.service} <span className="muted small">{i.instance}</span>
        </h3>
        <span className={`badge tone-${r.tone}`}>
          <span aria-hidden="true">{r.mark} </span>
          {r.word}
        </span>
      </div>
      <p className="muted small">
        last heard{" "}
        {silent === undefined ? (
          "—"
        ) : (
          <time dateTime={i.lastHeardAt} title={i.lastHeardAt ? when(i.lastHeardAt) : undefined}>
            {silent < 5_000 ? "just now" : `${duration(silent / 1000)} ago`}
          </time>
        )}
        {i.intervalMs ? ` (every ${duration(i.intervalMs / 1000)})` : ""}
        {i.version ? ` · version ${i.version}` : ""}
        {i.startedAt ? (
          <>
            {" "}
            · up since <Ago iso={i.startedAt} now={now} />
          </>
        ) : null}
      </p>

      <h4>Checks</h4>
      {i.checks.length === 0 ? (
        <p className="muted small">No checks reported.</p>
      ) : (
        <ul className="checks">
          {i.checks.map((c) => (
            <li key={c.name}>
              <span className={`check-mark tone-${checkTone(c.status, c.required)}`}>
                <span aria-hidden="true">{c.status === "ok" ? "✓" : c.required ? "✕" : "!"} </span>
                {c.status.replaceAll("_", " ")}
              </span>{" "}
              <strong>{c.name}</strong>
              {!c.required && c.status !== "ok" ? (
                <span className="muted small"> (optional)</span>
              ) : null}
              {c.reason ? <div className="small check-reason">{c.reason}</div> : null}
            </li>
          ))}
        </ul>
      )}
      {down.length === 0 && i.checks.length > 0 ? (
        <p className="sr-only">All checks pass.</p>
      ) : null}

      <dl className="facts">
        <dt>Outbox</dt>
        <dd>
          {i.outbox === undefined ? (
            <span className="muted">none (this service publishes directly)</span>
          ) : (
            <>
              {count(i.outbox.pending)} waiting
              {i.outbox.pending
                ? `, oldest ${duration((i.outbox.oldestPendingAgeMs ?? 0) / 1000)}`
                : ""}
              {i.outbox.quarantined ? (
                <span className="tone-bad">
                  {" "}
                  · <span aria-hidden="true">⚠ </span>
                  {count(i.outbox.quarantined)} quarantined (refused by the broker; needs an
                  operator)
                </span>
              ) : null}
            </>
          )}
        </dd>
        <dt>DLQ</dt>
        <dd>
          {i.dlq === undefined ? (
            <span className="muted">not reported</span>
          ) : (
            <>
              {count(i.dlq.sent)} parked since start
              {i.dlq.byTopic.length
                ? ` (${i.dlq.byTopic.map(([t, n]) => `${t}: ${count(n)}`).join(", ")})`
                : ""}
              {i.dlq.last ? (
                <div className="small">
                  last: {i.dlq.last.reason} — {i.dlq.last.topic},{" "}
                  <Ago iso={i.dlq.last.at} now={now} />
                </div>
              ) : null}
            </>
          )}
        </dd>
      </dl>

      {i.consumers === undefined ? null : i.consumers.length === 0 ? (
        <p className="muted small">Consumes no topic.</p>
      ) : (
        <table className="compact">
          <caption className="sr-only">
            {i.service} {i.instance}: consumers and their lag
          </caption>
          <thead>
            <tr>
              <th scope="col">Topic</th>
              <th scope="col">Group</th>
              <th scope="col">State</th>
              <th scope="col" className="num">
                Lag
              </th>
            </tr>
          </thead>
          <tbody>
            {i.consumers.map((c) => (
              <tr key={`${c.topic}/${c.group}`}>
                <td>{c.topic}</td>
                <td className="small">{c.group}</td>
                <td>
                  {c.status === "stalled" ? (
                    <span className="tone-bad">
                      <span aria-hidden="true">✕ </span>stalled
                    </span>
                  ) : (
                    (c.status ?? "—")
                  )}
                </td>
                <td className="num">
                  {c.lag === undefined ? (
                    <span className="muted">unknown</span>
                  ) : (
                    `${count(c.lag)} message${c.lag === 1 ? "" : "s"} behind`
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}

function downChecks(checks: Check[]): string {
  const down = checks.filter((c) => c.status !== "ok");
  return down.length
    ? down.map((c) => `${c.name}: ${c.reason ?? c.status.replaceAll("_", " ")}`).join("; ")
    : "no check is down";
}

function checkTone(status: string, required: boolean): "ok" | "warn" | "bad" {
  if (status === "ok") return "ok";
  return required && status === "down" ? "bad" : "warn";
}

/** Problems first (silent, then not ready), then by service and instance. */
function sortInstances(list: Instance[]): Instance[] {
  const rank = (i: Instance) => (i.stale ? 0 : i.ready ? 2 : 1);
  return [...list].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      a.service.localeCompare(b.service) ||
      a.instance.localeCompare(b.instance),
  );
}
