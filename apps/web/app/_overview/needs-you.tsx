"use client";
/**
 * "Needs you": what waits for an operator — the kill switch, approvals, services that are
 * not ready, quarantined outbox rows, DLQ messages, segments with nothing they may send.
 * Each source is optional: a route that is missing (404) or a field that is absent drops
 * its line, never the card. Every line says in words whether it needs action.
 */
import Link from "next/link";
import type { ReactNode } from "react";
import type { Controls } from "../../components/shell.tsx";
import { ErrorNote } from "../../components/ui.tsx";
import type { ApiError } from "../../lib/api.ts";
import { count, when } from "../../lib/format.ts";
import { TOPICS } from "../../lib/topics.ts";
import { type ApiState, useApi } from "../../lib/use-api.ts";

/** What this card reads of `/api/health`; every field may be missing. */
type HealthService = {
  service?: string;
  instance?: string;
  ready?: boolean;
  stale?: boolean;
  outbox?: { quarantined?: number } | null;
  dlq?: { sent?: number; depth?: number } | null;
};
type Health = { services?: HealthService[] };
type Experiments = {
  segments?: { segment: string; arms?: { variantId: string; status: string }[] }[];
};

const HEALTH_LIVE = [TOPICS.serviceHealth];
const EXPERIMENT_LIVE = [TOPICS.experimentUpdates];

type Line = { key: string; urgent: boolean; text: ReactNode; href?: string; link?: string };

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
/** A missing route is "not available here", not a failure worth a red box. */
const missing = (e: ApiError | undefined) => e?.status === 404;

export function NeedsYou({ controls }: { controls: ApiState<Controls> }) {
  const health = useApi<Health>("/api/health", { live: HEALTH_LIVE, throttleMs: 5_000 });
  const experiments = useApi<Experiments>("/api/experiments", {
    live: EXPERIMENT_LIVE,
    throttleMs: 2_000,
  });
  const lines: Line[] = [
    ...controlLines(controls.data),
    ...healthLines(health.data),
    ...segmentLines(experiments.data),
  ];
  const failures = [
    { what: "controls", s: controls },
    { what: "service health", s: health },
    { what: "experiments", s: experiments },
  ].filter((f) => f.s.error && !missing(f.s.error) && !f.s.data);
  const loading = [controls, health, experiments].some((s) => s.loading && !s.data && !s.error);
  const urgent = lines.filter((l) => l.urgent);
  return (
    <>
      <ul className="needs">
        {lines.map((l) => (
          <li key={l.key} className={l.urgent ? "need need-urgent" : "need need-ok"}>
            <span className={`badge ${l.urgent ? "tone-warn" : "tone-ok"}`}>
              {l.urgent ? "Action" : "OK"}
            </span>{" "}
            {l.text}
            {l.href ? (
              <>
                {" "}
                <Link href={l.href}>{l.link}</Link>
              </>
            ) : null}
          </li>
        ))}
        {!loading && urgent.length === 0 && failures.length === 0 ? (
          <li className="need need-ok">
            <span className="badge tone-ok">OK</span> Nothing needs you right now.
          </li>
        ) : null}
      </ul>
      {missing(health.error) ? (
        <p className="small muted">Service health is not reported by this gateway yet.</p>
      ) : null}
      {loading ? (
        <p className="small muted" role="status">
          Checking controls and service health…
        </p>
      ) : null}
      {failures.map((f) => (
        <ErrorNote
          key={f.what}
          error={new Error(`${f.what}: ${f.s.error?.message ?? "failed"}`)}
          retry={f.s.reload}
        />
      ))}
    </>
  );
}

function controlLines(c: Controls | undefined): Line[] {
  if (!c) return [];
  const out: Line[] = [];
  const k = c.killSwitch;
  if (k?.engaged)
    out.push({
      key: "kill",
      urgent: true,
      text: `Kill switch is ON — nothing is sent${k.by ? ` (by ${k.by}${k.at ? `, ${when(k.at)}` : ""}${k.reason ? `: ${k.reason}` : ""})` : ""}.`,
      href: "/controls",
      link: "Controls",
    });
  const pending = num(c.pendingApprovals);
  if (pending > 0)
    out.push({
      key: "approvals",
      urgent: true,
      text: `${count(pending)} ${pending === 1 ? "message waits" : "messages wait"} for your approval.`,
      href: "/controls#approvals",
      link: "Review",
    });
  else if (c.approvalMode?.enabled)
    out.push({ key: "approvals", urgent: false, text: "Approval mode is on; nothing waiting." });
  return out;
}

function healthLines(h: Health | undefined): Line[] {
  if (!h || !Array.isArray(h.services)) return [];
  const services = h.services;
  if (services.length === 0)
    return [
      {
        key: "health",
        urgent: true,
        text: "No service has reported its health yet.",
        href: "/health",
        link: "Health",
      },
    ];
  const down = services.filter((s) => s.ready === false || s.stale === true);
  const out: Line[] = [];
  if (down.length > 0) {
    const names = [...new Set(down.map((s) => s.service ?? "unknown"))].join(", ");
    out.push({
      key: "ready",
      urgent: true,
      text: `${count(down.length)} of ${count(services.length)} service instances not ready or silent (${names}).`,
      href: "/health",
      link: "Health",
    });
  } else
    out.push({
      key: "ready",
      urgent: false,
      text: `All ${count(services.length)} service instances ready.`,
    });
  const quarantined = services.reduce((n, s) => n + num(s.outbox?.quarantined), 0);
  if (quarantined > 0)
    out.push({
      key: "quarantined",
      urgent: true,
      text: `${count(quarantined)} outbox ${quarantined === 1 ? "row" : "rows"} quarantined (the broker refused them).`,
      href: "/health",
      link: "Health",
    });
  const dlq = services.reduce((n, s) => n + num(s.dlq?.depth ?? s.dlq?.sent), 0);
  if (dlq > 0)
    out.push({
      key: "dlq",
      urgent: true,
      text: `${count(dlq)} ${dlq === 1 ? "message" : "messages"} parked in a DLQ.`,
      href: "/health",
      link: "Redrive on Health",
    });
  return out;
}

function segmentLines(e: Experiments | undefined): Line[] {
  if (!e || !Array.isArray(e.segments)) return [];
  return e.segments
    .filter((s) => (s.arms?.length ?? 0) > 0 && s.arms!.every((a) => a.status !== "active"))
    .map((s) => ({
      key: `segment-${s.segment}`,
      urgent: true,
      text: `Segment ${s.segment} has no active variant: nothing it may send.`,
      href: `/experiments?segment=${encodeURIComponent(s.segment)}`,
      link: "Experiments",
    }));
}
