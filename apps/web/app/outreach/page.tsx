"use client";
/**
 * Outreach log: every dispatch verdict (sent, deferred, skipped, failed), newest first,
 * with why a message was held back and the provider's id for a sent one. Filters are in
 * the URL (`?status=&channel=&variant=`), so a link shows the same log. The newest page
 * follows the stream; older pages load with the API's cursor, and rows already shown stay
 * until the filters change (nothing falls between a live refresh and a loaded page).
 */
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useId, useMemo, useState } from "react";
import { Ago } from "../../components/time.tsx";
import { Card, Empty, ErrorNote, Loading, PageHeader } from "../../components/ui.tsx";
import { useNow } from "../../components/use-now.ts";
import { ApiError, apiGet } from "../../lib/api.ts";
import { count, when } from "../../lib/format.ts";
import { TOPICS } from "../../lib/topics.ts";
import { useApi } from "../../lib/use-api.ts";

const STATUSES = ["sent", "deferred", "skipped", "failed"] as const;
const CHANNELS = ["email", "linkedin", "slack", "in_app"] as const;
const PAGE = 50;
const LIVE = [TOPICS.outreachDispatched];

/** One dispatch verdict (`outreach.dispatched.v1` data, plus where the log has it). */
type Dispatch = {
  seq: number;
  leadId: string;
  at: string;
  requestId: string;
  dispatchId?: string;
  variantId: string;
  channel: string;
  status: string;
  reason?: string;
  provider?: { name: string; messageId?: string };
  cadenceStep: number;
  track?: "experiment" | "nurture";
  nextStepAt?: string;
  attempt?: number;
};
type Page = { items: Dispatch[]; nextCursor: string | null };

type Filters = { status: string; channel: string; variant: string };

export default function OutreachPage() {
  return (
    <>
      <PageHeader title="Outreach" />
      <Suspense fallback={<Loading what="the outreach log" />}>
        <Outreach />
      </Suspense>
    </>
  );
}

function readFilters(params: URLSearchParams): Filters {
  const pick = (value: string | null, allowed: readonly string[]) =>
    value && allowed.includes(value) ? value : "";
  return {
    status: pick(params.get("status"), STATUSES),
    channel: pick(params.get("channel"), CHANNELS),
    variant: (params.get("variant") ?? "").slice(0, 100),
  };
}

function apiPath(f: Filters, cursor?: string): string {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (f.status) q.set("status", f.status);
  if (f.channel) q.set("channel", f.channel);
  if (f.variant) q.set("variantId", f.variant);
  if (cursor) q.set("cursor", cursor);
  return `/api/outreach?${q}`;
}

function Outreach() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const filters = readFilters(new URLSearchParams(params.toString()));
  const key = apiPath(filters);
  const setFilter = (patch: Partial<Filters>) => {
    const next = { ...filters, ...patch };
    const q = new URLSearchParams();
    if (next.status) q.set("status", next.status);
    if (next.channel) q.set("channel", next.channel);
    if (next.variant) q.set("variant", next.variant);
    const s = q.toString();
    router.replace(s ? `${pathname}?${s}` : pathname, { scroll: false });
  };
  const filtered = Boolean(filters.status || filters.channel || filters.variant);

  return (
    <>
      <FilterBar filters={filters} onChange={setFilter} />
      <Log
        key={key}
        filters={filters}
        filtered={filtered}
        onClear={() => router.replace(pathname)}
      />
    </>
  );
}

/** The variants this log can be filtered by: every variant the experiments know of. */
function useVariants(): string[] {
  const xp = useApi<{ segments: { arms: { variantId: string }[] }[] }>("/api/experiments");
  return useMemo(
    () =>
      [...new Set((xp.data?.segments ?? []).flatMap((s) => s.arms.map((a) => a.variantId)))].sort(),
    [xp.data],
  );
}

function FilterBar(p: { filters: Filters; onChange(patch: Partial<Filters>): void }) {
  const ids = { status: useId(), channel: useId(), variant: useId() };
  const known = useVariants();
  const variants =
    p.filters.variant && !known.includes(p.filters.variant) ? [p.filters.variant, ...known] : known;
  return (
    <form
      className="filters"
      aria-label="Filter the outreach log"
      onSubmit={(e) => e.preventDefault()}
    >
      <div>
        <label htmlFor={ids.status}>Status</label>
        <select
          id={ids.status}
          value={p.filters.status}
          onChange={(e) => p.onChange({ status: e.target.value })}
        >
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_WORDS[s]}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor={ids.channel}>Channel</label>
        <select
          id={ids.channel}
          value={p.filters.channel}
          onChange={(e) => p.onChange({ channel: e.target.value })}
        >
          <option value="">Any channel</option>
          {CHANNELS.map((c) => (
            <option key={c} value={c}>
              {channelLabel(c)}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor={ids.variant}>Variant</label>
        <select
          id={ids.variant}
          value={p.filters.variant}
          onChange={(e) => p.onChange({ variant: e.target.value })}
        >
          <option value="">Any variant</option>
          {variants.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      </div>
    </form>
  );
}

/**
 * The log for one set of filters (remounted when they change). The newest page is live;
 * every row seen is kept by seq, so older pages load from the oldest row shown.
 */
function Log(p: { filters: Filters; filtered: boolean; onClear(): void }) {
  const now = useNow();
  const first = useApi<Page>(apiPath(p.filters), { live: LIVE });
  const [rows, setRows] = useState<Map<number, Dispatch>>(() => new Map());
  const [more, setMore] = useState<{ done: boolean; loading: boolean; error?: ApiError }>({
    done: false,
    loading: false,
  });

  useEffect(() => {
    const items = first.data?.items;
    if (!items) return;
    setRows((m) => merge(m, items));
    // Nothing older than the newest page: the end is known until an older page says more.
    if (first.data?.nextCursor === null) setMore((s) => ({ ...s, done: true }));
  }, [first.data]);

  // The newest page as fetched now, over every row seen before (no flash before the merge).
  const list = useMemo(
    () => [...merge(rows, first.data?.items ?? []).values()].sort((a, b) => b.seq - a.seq),
    [rows, first.data],
  );
  const oldest = list.at(-1)?.seq;

  const loadOlder = () => {
    if (oldest === undefined) return;
    setMore({ done: false, loading: true });
    apiGet<Page>(apiPath(p.filters, String(oldest)))
      .then((page) => {
        setRows((m) => merge(m, page.items));
        setMore({ done: page.nextCursor === null, loading: false });
      })
      .catch((e: unknown) =>
        setMore({
          done: false,
          loading: false,
          error: e instanceof ApiError ? e : new ApiError(0, "error", String(e)),
        }),
      );
  };

  if (!first.data && list.length === 0) {
    if (first.error) return <ErrorNote error={first.error} retry={first.reload} />;
    return <Loading what="the outreach log" />;
  }
  if (list.length === 0)
    return p.filtered ? (
      <Empty title="No outreach matches these filters.">
        Nothing has been dispatched with this status, channel and variant yet.{" "}
        <button type="button" className="btn btn-quiet" onClick={p.onClear}>
          Clear the filters
        </button>
      </Empty>
    ) : (
      <Empty title="Nothing has been dispatched yet.">
        Rows appear here as soon as dispatch sends, defers or skips a message. If leads are queued
        but nothing arrives, check the kill switch in the top bar and approvals on{" "}
        <Link href="/controls">Controls</Link>, then the pipeline on{" "}
        <Link href="/health">Health</Link>.
      </Empty>
    );

  const tally = STATUSES.map((s) => [s, list.filter((r) => r.status === s).length] as const);
  return (
    <Card>
      {first.error ? (
        <p className="stale-note" role="alert">
          Could not refresh the newest rows ({first.error.message}); showing what was loaded.{" "}
          <button type="button" className="btn btn-quiet" onClick={first.reload}>
            Try again
          </button>
        </p>
      ) : null}
      <p className="muted small" aria-live="polite">
        {count(list.length)} dispatch verdicts shown, newest first:{" "}
        {tally
          .filter(([, n]) => n > 0)
          .map(([s, n]) => `${count(n)} ${s}`)
          .join(", ")}
        . New ones appear at the top as dispatch reports them.
      </p>
      <div className="ol-scroll">
        <table className="ol-table">
          <caption className="sr-only">
            Outreach log{p.filtered ? " (filtered)" : ""}: time, lead, channel, variant, step,
            status, reason and provider of each dispatch verdict
          </caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Lead</th>
              <th scope="col">Channel</th>
              <th scope="col">Variant</th>
              <th scope="col">Step</th>
              <th scope="col">Status</th>
              <th scope="col">Reason / next</th>
              <th scope="col">Provider</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <Row key={r.seq} r={r} now={now} />
            ))}
          </tbody>
        </table>
      </div>
      <div className="ol-more">
        {more.error ? (
          <p role="alert" className="form-error">
            Could not load older rows: {more.error.message}
          </p>
        ) : null}
        {more.done ? (
          <p className="muted small">
            That is the whole log{p.filtered ? " for these filters" : ""}.
          </p>
        ) : (
          <button type="button" className="btn" onClick={loadOlder} disabled={more.loading}>
            {more.loading ? "Loading older rows…" : `Load ${PAGE} older`}
          </button>
        )}
      </div>
    </Card>
  );
}

function merge(m: Map<number, Dispatch>, items: readonly Dispatch[]): Map<number, Dispatch> {
  const next = new Map(m);
  for (const it of items) next.set(it.seq, it);
  return next;
}

const STATUS_WORDS: Record<string, string> = {
  sent: "Sent",
  deferred: "Deferred",
  skipped: "Skipped",
  failed: "Failed",
};
const STATUS_MARK: Record<string, string> = {
  sent: "✓",
  deferred: "◷",
  skipped: "↷",
  failed: "✕",
};
const STATUS_TONE: Record<string, string> = {
  sent: "tone-ok",
  deferred: "tone-warn",
  skipped: "",
  failed: "tone-bad",
};

function channelLabel(c: string): string {
  return c === "in_app"
    ? "In-app"
    : c === "linkedin"
      ? "LinkedIn"
      : c.charAt(0).toUpperCase() + c.slice(1);
}

function Row({ r, now }: { r: Dispatch; now: number }) {
  const next =
    r.nextStepAt && r.status === "deferred"
      ? `retry ${when(r.nextStepAt)}`
      : r.nextStepAt && r.status === "sent"
        ? `next step ${when(r.nextStepAt)}`
        : undefined;
  return (
    <tr>
      <td>
        <span className="ol-time">{when(r.at)}</span>
        <span className="muted small">
          <Ago iso={r.at} now={now} />
        </span>
      </td>
      <td>
        <Link href={`/leads/${encodeURIComponent(r.leadId)}`}>
          <code>{r.leadId}</code>
        </Link>
      </td>
      <td>{channelLabel(r.channel)}</td>
      <td>
        <code>{r.variantId}</code>
      </td>
      <td>
        {r.cadenceStep === 0 ? "First touch" : `Follow-up ${r.cadenceStep}`}
        {r.track === "nurture" ? <span className="muted small"> · nurture</span> : null}
        {r.attempt && r.attempt > 1 ? (
          <span className="muted small"> · attempt {r.attempt}</span>
        ) : null}
      </td>
      <td>
        <span className={`badge ${STATUS_TONE[r.status] ?? ""}`}>
          <span aria-hidden="true">{STATUS_MARK[r.status] ?? "•"} </span>
          {STATUS_WORDS[r.status] ?? r.status}
        </span>
      </td>
      <td>
        {r.reason ? <span>{r.reason}</span> : null}
        {r.reason && next ? <br /> : null}
        {next ? <span className="muted small">{next}</span> : null}
        {!r.reason && !next ? <span className="muted">—</span> : null}
      </td>
      <td>
        {r.provider ? (
          <>
            <span>{r.provider.name}</span>
            {r.provider.messageId ? (
              <code className="ol-provider-id" title={r.provider.messageId}>
                {r.provider.messageId}
              </code>
            ) : null}
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}
