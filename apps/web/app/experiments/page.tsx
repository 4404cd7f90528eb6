"use client";
/**
 * Experiments: per segment, what the engine learned (the results table), how it moved
 * traffic (share over time), and what another setting would have earned on the same
 * decisions (what-if). The segment is in the URL (`?segment=`), so a link shows the same
 * view; everything follows the stream's experiment updates.
 */
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useMemo } from "react";
import { isMissingRoute } from "../../components/api-view.tsx";
import { Ago } from "../../components/time.tsx";
import { Card, Empty, ErrorNote, Loading, PageHeader } from "../../components/ui.tsx";
import { useNow } from "../../components/use-now.ts";
import { count } from "../../lib/format.ts";
import { TOPICS } from "../../lib/topics.ts";
import { useApi } from "../../lib/use-api.ts";
import {
  type ExperimentsResponse,
  type HistoryResponse,
  recentShare,
  type SegmentStandings,
  sendsInHistory,
} from "./model.ts";
import { ResultsTable } from "./results-table.tsx";
import { TrafficChart } from "./traffic-chart.tsx";
import { WhatIfPanel } from "./what-if.tsx";

const LIVE = [TOPICS.experimentUpdates, TOPICS.operatorCommandResults];
const HISTORY_LIMIT = 1_000;

export default function ExperimentsPage() {
  return (
    <>
      <PageHeader title="Experiments" />
      <Suspense fallback={<Loading what="experiments" />}>
        <Experiments />
      </Suspense>
    </>
  );
}

function Experiments() {
  const params = useSearchParams();
  const wanted = params.get("segment");
  const all = useApi<ExperimentsResponse>("/api/experiments", { live: LIVE });
  const router = useRouter();
  const pathname = usePathname();
  const first = all.data?.segments[0]?.segment;
  // With no segment in the URL the first one is shown — and written into the URL, so a
  // segment that appears later (and sorts first) does not swap the view under an operator
  // who is half-way through pausing a variant.
  useEffect(() => {
    if (!wanted && first)
      router.replace(`${pathname}?segment=${encodeURIComponent(first)}`, { scroll: false });
  }, [wanted, first, router, pathname]);

  if (!all.data) {
    if (all.error) return <ErrorNote error={all.error} retry={all.reload} />;
    return <Loading what="experiments" />;
  }
  const segments = all.data.segments;
  if (segments.length === 0)
    return (
      <Empty title="No experiment has started yet.">
        A segment appears here once the engine decides its first message for a scored lead in it. If
        leads are arriving but nothing is decided, check the pipeline on{" "}
        <Link href="/health">Health</Link> and the kill switch in the top bar.
      </Empty>
    );
  const selected = segments.find((s) => s.segment === wanted) ?? (wanted ? undefined : segments[0]);
  return (
    <>
      {all.error ? (
        <p className="stale-note" role="alert">
          Could not refresh the experiments ({all.error.message}); showing what was loaded before.{" "}
          <button type="button" className="btn btn-quiet" onClick={all.reload}>
            Try again
          </button>
        </p>
      ) : null}
      <SegmentPicker segments={segments} current={selected?.segment} />
      {selected ? (
        <Segment key={selected.segment} standings={selected} />
      ) : (
        <Empty title={`No segment named “${wanted}”.`}>
          It has no variants yet, or the link is old. Pick one of the {count(segments.length)}{" "}
          segments above.
        </Empty>
      )}
    </>
  );
}

function SegmentPicker(p: { segments: readonly SegmentStandings[]; current: string | undefined }) {
  const pathname = usePathname();
  return (
    <nav className="xp-segments" aria-label="Segments">
      <ul>
        {p.segments.map((s) => {
          const active = s.arms.filter((a) => a.status === "active").length;
          return (
            <li key={s.segment}>
              <Link
                href={`${pathname}?segment=${encodeURIComponent(s.segment)}`}
                aria-current={s.segment === p.current ? "page" : undefined}
                className="xp-segment"
                scroll={false}
              >
                <span className="xp-segment-name">{s.segment}</span>
                <span className="small muted">
                  {count(s.exposures)} sends · {active} of {s.arms.length} variants active
                </span>
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

function Segment({ standings }: { standings: SegmentStandings }) {
  const segment = standings.segment;
  const now = useNow();
  const history = useApi<HistoryResponse>(
    `/api/experiments/${encodeURIComponent(segment)}/history?limit=${HISTORY_LIMIT}`,
    { live: [TOPICS.experimentUpdates], filter: (row) => row.subject === `segment:${segment}` },
  );
  const snapshots = history.data?.snapshots ?? [];
  const last = snapshots.at(-1);
  const recent = useMemo(() => {
    const s = history.data?.snapshots ?? [];
    // The last tenth of the history, at least 20 sends: "now", with a basis worth reading.
    return recentShare(s, Math.max(20, Math.ceil(sendsInHistory(s) / 10)));
  }, [history.data]);
  const updated = standings.arms.reduce<string | undefined>(
    (m, a) => (m === undefined || a.updatedAt > m ? a.updatedAt : m),
    undefined,
  );

  return (
    <>
      <Card
        title={`Results — ${segment}`}
        id="results"
        actions={
          <span className="muted small">
            updated <Ago iso={updated} now={now} />
          </span>
        }
      >
        {standings.arms.length === 0 ? (
          <Empty title="No variants in this segment yet.">
            Variants appear once the engine has a playbook for the segment (Controls → Playbook).
          </Empty>
        ) : (
          <ResultsTable
            segment={segment}
            arms={standings.arms}
            totalSends={standings.exposures}
            reward={last?.reward}
            recent={recent}
          />
        )}
      </Card>
      <Card title="Traffic share over time" id="traffic">
        {history.data ? (
          <>
            {history.error ? (
              <p className="stale-note" role="alert">
                Could not refresh the history ({history.error.message}); showing what was loaded
                before.
              </p>
            ) : null}
            {snapshots.length === 0 ? (
              <Empty title="No snapshot of this segment yet.">
                The experiments service publishes one after each review of the posteriors; the chart
                starts with the first.
              </Empty>
            ) : (
              <>
                <TrafficChart snapshots={snapshots} />
                {snapshots.length >= HISTORY_LIMIT ? (
                  <p className="muted small">
                    Showing the latest {count(HISTORY_LIMIT)} snapshots; earlier ones are not drawn.
                  </p>
                ) : null}
              </>
            )}
          </>
        ) : history.error ? (
          isMissingRoute(history.error) && history.error.code !== "not_found" ? (
            <p className="muted">Traffic history is not available on this gateway.</p>
          ) : (
            <ErrorNote error={history.error} retry={history.reload} />
          )
        ) : (
          <Loading what="the traffic history" />
        )}
      </Card>
      <WhatIfPanel segment={segment} arms={standings.arms} />
    </>
  );
}
