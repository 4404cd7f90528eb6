"use client";
/**
 * The live lead queue, by priority then score. New and changed leads arrive from the
 * stream; while the operator is inside the table (pointer over it, focus in it, or
 * scrolled past its top) the order is held — rows update in place, and new leads wait
 * behind a "N new leads — show" button — so the row under the cursor never moves.
 *
 * Pages: the live query grows 50 rows at a time up to 200 (so what is loaded stays live);
 * beyond that, "Load more" follows the API's cursor (those rows are a snapshot).
 */
import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import { Empty, ErrorNote, Loading } from "../../../components/ui.tsx";
import { useNow } from "../../../components/use-now.ts";
import { ApiError, apiGet } from "../../../lib/api.ts";
import { count } from "../../../lib/format.ts";
import { TOPICS } from "../../../lib/topics.ts";
import { useApi } from "../../../lib/use-api.ts";
import type { Lead, LeadPage } from "./lead.ts";
import { LeadRow } from "./lead-row.tsx";

const PAGE = 50;
/** The API's largest page: up to here the whole loaded queue is one live query. */
const MAX_LIVE = 200;
const LIVE = [
  TOPICS.leadEvents,
  TOPICS.leadScored,
  TOPICS.outreachRequested,
  TOPICS.outreachDispatched,
  TOPICS.outreachOutcomes,
  TOPICS.leadConsent,
];

function merge(...lists: Lead[][]): Lead[] {
  const seen = new Set<string>();
  const out: Lead[] = [];
  for (const list of lists)
    for (const l of list) {
      if (seen.has(l.leadId)) continue;
      seen.add(l.leadId);
      out.push(l);
    }
  return out;
}

const sameOrder = (a: Lead[], b: Lead[]) =>
  a.length === b.length && a.every((l, i) => l.leadId === b[i]?.leadId);

export function LeadQueue({ query, filtered }: { query: string; filtered: boolean }) {
  const [pages, setPages] = useState(1);
  const limit = Math.min(MAX_LIVE, PAGE * pages);
  const live = useApi<LeadPage>(`/api/leads?${query}${query ? "&" : ""}limit=${limit}`, {
    live: LIVE,
    throttleMs: 1_000,
  });
  const [older, setOlder] = useState<LeadPage | null>(null);
  const [olderState, setOlderState] = useState<{ loading: boolean; error?: ApiError }>({
    loading: false,
  });
  const now = useNow();

  const fresh = live.data ? merge(live.data.items, older?.items ?? []) : undefined;
  const [view, setView] = useState<{ rows: Lead[]; added: Set<string> } | null>(null);
  const tableRef = useRef<HTMLDivElement>(null);
  const pointerIn = useRef(false);
  const focusIn = useRef(false);

  // Where the operator is, observed (not handled): native listeners, nothing interactive.
  // React 19 runs the returned cleanup when the element goes.
  const observe = useCallback((el: HTMLDivElement | null) => {
    tableRef.current = el;
    if (!el) return;
    const on: Record<string, (e: Event) => void> = {
      pointerenter: () => {
        pointerIn.current = true;
      },
      pointerleave: () => {
        pointerIn.current = false;
      },
      focusin: () => {
        focusIn.current = true;
      },
      focusout: (e) => {
        const next = (e as FocusEvent).relatedTarget;
        if (!(next instanceof Node && el.contains(next))) focusIn.current = false;
      },
    };
    for (const [name, fn] of Object.entries(on)) el.addEventListener(name, fn);
    return () => {
      pointerIn.current = false;
      focusIn.current = false;
      for (const [name, fn] of Object.entries(on)) el.removeEventListener(name, fn);
    };
  }, []);

  const holding = () =>
    pointerIn.current ||
    focusIn.current ||
    (tableRef.current !== null && tableRef.current.getBoundingClientRect().top < 0);

  const show = useCallback((rows: Lead[]) => {
    setView((prev) => {
      const before = new Set(prev?.rows.map((r) => r.leadId));
      const added = prev
        ? new Set(rows.filter((r) => !before.has(r.leadId)).map((r) => r.leadId))
        : new Set<string>();
      return { rows, added };
    });
  }, []);

  // Each new answer: shown at once, or — while the operator is in the table — folded
  // into the rows already on screen without changing their order.
  useEffect(() => {
    if (!fresh) return;
    if (!view || view.rows.length === 0 || !holding()) return show(fresh);
    const byId = new Map(fresh.map((l) => [l.leadId, l]));
    setView((prev) =>
      prev ? { ...prev, rows: prev.rows.map((r) => byId.get(r.leadId) ?? r) } : prev,
    );
  }, [live.data, older]);

  const loadMore = async () => {
    if (limit < MAX_LIVE && !older) return setPages((p) => p + 1);
    const cursor = older ? older.nextCursor : live.data?.nextCursor;
    if (!cursor) return;
    setOlderState({ loading: true });
    try {
      const page = await apiGet<LeadPage>(
        `/api/leads?${query}${query ? "&" : ""}limit=${PAGE}&cursor=${encodeURIComponent(cursor)}`,
      );
      setOlder((o) => ({
        items: [...(o?.items ?? []), ...page.items],
        nextCursor: page.nextCursor,
      }));
      setOlderState({ loading: false });
    } catch (e) {
      setOlderState({
        loading: false,
        error: e instanceof ApiError ? e : new ApiError(0, "error", String(e)),
      });
    }
  };

  if (!live.data || !view || !fresh) {
    if (live.error) return <ErrorNote error={live.error} retry={live.reload} />;
    return <Loading what="the lead queue" />;
  }
  if (view.rows.length === 0 && fresh.length === 0)
    return filtered ? (
      <Empty title="No leads match these filters.">
        Widen the search or <Link href="/leads">clear the filters</Link>; new matching leads appear
        here as they arrive.
      </Empty>
    ) : (
      <Empty title="No leads yet.">
        Start the demo (<code>pnpm demo</code>), or send a signed webhook to ingest (
        <code>POST /webhooks/lightfield</code> or <code>/webhooks/signals</code>): leads appear here
        as soon as they are received and scored.
      </Empty>
    );

  const onScreen = new Set(view.rows.map((r) => r.leadId));
  const waiting = fresh.filter((l) => !onScreen.has(l.leadId)).length;
  const reordered = !sameOrder(view.rows, fresh);
  const hasMore = older ? older.nextCursor !== null : live.data.nextCursor !== null;
  const growing = live.loading && limit > live.data.items.length && live.data.nextCursor !== null;

  return (
    <>
      <div className="queue-bar">
        <p className="small muted" role="status" aria-live="polite">
          {count(view.rows.length)} leads shown{hasMore ? ", more below" : ""}; by priority, then
          score.{waiting > 0 ? ` ${count(waiting)} new waiting.` : ""}
        </p>
        {reordered ? (
          <button type="button" className="btn btn-primary" onClick={() => show(fresh)}>
            {waiting > 0
              ? `${count(waiting)} new ${waiting === 1 ? "lead" : "leads"} — show`
              : "Queue order changed — show"}
          </button>
        ) : null}
      </div>
      {live.error ? <ErrorNote error={live.error} retry={live.reload} /> : null}
      <div ref={observe} className="scroll-x">
        <table className="lead-table">
          <caption className="visually-hidden">
            Lead queue by priority, then score. Open a lead for its journey.
          </caption>
          <thead>
            <tr>
              <th scope="col">Lead</th>
              <th scope="col" className="num">
                Score
              </th>
              <th scope="col">Top reasons</th>
              <th scope="col">Segment</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Priority
              </th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {view.rows.map((lead) => (
              <LeadRow
                key={lead.leadId}
                lead={lead}
                isNew={view.added.has(lead.leadId)}
                now={now}
              />
            ))}
          </tbody>
        </table>
      </div>
      {olderState.error ? <ErrorNote error={olderState.error} retry={loadMore} /> : null}
      {hasMore ? (
        <p>
          <button
            type="button"
            className="btn"
            onClick={loadMore}
            disabled={olderState.loading || growing}
          >
            {olderState.loading || growing ? "Loading more…" : `Load ${PAGE} more`}
          </button>
        </p>
      ) : view.rows.length > PAGE ? (
        <p className="small muted">That is every lead{filtered ? " that matches" : ""}.</p>
      ) : null}
    </>
  );
}
