"use client";
/**
 * The queue's filters, kept in the URL (`?status=&tier=&segment=&q=`) so a filtered view
 * is a link an operator can share. The text search waits for a pause in typing.
 */
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { tierLabel } from "../../../lib/format.ts";
import { TOPICS } from "../../../lib/topics.ts";
import { useApi } from "../../../lib/use-api.ts";
import { LEAD_STATUSES, statusLabel, TIERS } from "./lead.ts";

export type LeadFilters = { status: string; tier: string; segment: string; q: string };
export const FILTER_KEYS = ["status", "tier", "segment", "q"] as const;

export function readFilters(params: URLSearchParams): LeadFilters {
  return {
    status: params.get("status") ?? "",
    tier: params.get("tier") ?? "",
    segment: params.get("segment") ?? "",
    q: params.get("q") ?? "",
  };
}

export function filterQuery(f: LeadFilters): string {
  const p = new URLSearchParams();
  for (const k of FILTER_KEYS) if (f[k].trim()) p.set(k, f[k].trim());
  return p.toString();
}

const SEARCH_DELAY_MS = 300;
const SEGMENT_LIVE = [TOPICS.experimentUpdates];

export function Filters() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const current = params.toString();
  const f = readFilters(new URLSearchParams(current));
  const [q, setQ] = useState(f.q);
  /** The search text this box last put in the URL (to tell our changes from the back button's). */
  const pushed = useRef(f.q);
  const experiments = useApi<{ segments?: { segment: string }[] }>("/api/experiments", {
    live: SEGMENT_LIVE,
    throttleMs: 5_000,
  });
  const ids = { status: useId(), tier: useId(), segment: useId(), q: useId() };

  const go = useCallback(
    (next: LeadFilters) => {
      pushed.current = next.q;
      const qs = filterQuery(next);
      router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    },
    [router, pathname],
  );
  const set = (patch: Partial<LeadFilters>) => go({ ...f, q, ...patch });

  // The URL changed from outside (back button, a shared link): the box follows it.
  useEffect(() => {
    if (f.q !== pushed.current) {
      pushed.current = f.q;
      setQ(f.q);
    }
  }, [f.q]);
  // Typing: the URL follows after a pause.
  useEffect(() => {
    const now = readFilters(new URLSearchParams(current));
    if (q === now.q) return;
    const t = setTimeout(() => go({ ...now, q }), SEARCH_DELAY_MS);
    return () => clearTimeout(t);
  }, [q, current, go]);

  const segments = [
    ...new Set([
      ...(experiments.data?.segments ?? []).map((s) => s.segment),
      ...(f.segment ? [f.segment] : []),
    ]),
  ].sort();
  const any = FILTER_KEYS.some((k) => f[k]);

  return (
    <search aria-label="Filter the lead queue">
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          set({ q });
        }}
      >
        <div>
          <label htmlFor={ids.q}>Search</label>
          <input
            id={ids.q}
            type="search"
            value={q}
            placeholder="Name, company, e-mail or id"
            onChange={(e) => setQ(e.target.value)}
            maxLength={200}
          />
        </div>
        <div>
          <label htmlFor={ids.status}>Status</label>
          <select
            id={ids.status}
            value={f.status}
            onChange={(e) => set({ status: e.target.value })}
          >
            <option value="">Any status</option>
            {LEAD_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.tier}>Tier</label>
          <select id={ids.tier} value={f.tier} onChange={(e) => set({ tier: e.target.value })}>
            <option value="">Any tier</option>
            {TIERS.map((t) => (
              <option key={t} value={t}>
                {tierLabel(t)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.segment}>Segment</label>
          <select
            id={ids.segment}
            value={f.segment}
            onChange={(e) => set({ segment: e.target.value })}
          >
            <option value="">Any segment</option>
            {segments.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        {any ? (
          <button
            type="button"
            className="btn btn-quiet"
            onClick={() => {
              setQ("");
              go({ status: "", tier: "", segment: "", q: "" });
            }}
          >
            Clear filters
          </button>
        ) : null}
      </form>
    </search>
  );
}
