"use client";
/**
 * Overview: is it running (the flow's five counters, what needs you), what did it learn
 * (the feed) and how is the funnel doing over time — all above the fold at 1440×900,
 * all live.
 */
import { useEffect, useId, useState } from "react";
import { useControls } from "../components/shell.tsx";
import { Card, PageHeader } from "../components/ui.tsx";
import { useNow } from "../components/use-now.ts";
import { isDemo, useEnvironment } from "../lib/environment.tsx";
import { TOPICS } from "../lib/topics.ts";
import { useApi } from "../lib/use-api.ts";
import { FlowCounters } from "./_overview/flow-counters.tsx";
import { BUCKET_SPAN, type Bucket, type Funnel } from "./_overview/funnel.ts";
import { FunnelChart } from "./_overview/funnel-chart.tsx";
import { LearnedFeed } from "./_overview/learned-feed.tsx";
import { NeedsYou } from "./_overview/needs-you.tsx";

const FUNNEL_TOPICS = [
  TOPICS.leadEvents,
  TOPICS.leadScored,
  TOPICS.outreachRequested,
  TOPICS.outreachDispatched,
  TOPICS.outreachOutcomes,
];
/** The funnel query aggregates; at most one refetch per this long however fast rows come. */
const FUNNEL_THROTTLE_MS = 2_500;
/** Buckets roll over even when nothing arrives: a quiet pipeline must show its rates falling. */
const ROLL_MS = 30_000;

export default function Overview() {
  const env = useEnvironment();
  const [bucket, setBucket] = useState<Bucket>(() => (isDemo(env) ? "minute" : "day"));
  const now = useNow(ROLL_MS / 2);
  const controls = useControls();
  const minute = useApi<Funnel>("/api/funnel?bucket=minute", {
    live: FUNNEL_TOPICS,
    throttleMs: FUNNEL_THROTTLE_MS,
  });
  const other = useApi<Funnel>(bucket === "minute" ? null : `/api/funnel?bucket=${bucket}`, {
    live: FUNNEL_TOPICS,
    throttleMs: FUNNEL_THROTTLE_MS,
  });
  const { reload: reloadMinute } = minute;
  const { reload: reloadOther } = other;
  useEffect(() => {
    const t = setInterval(() => {
      reloadMinute();
      reloadOther();
    }, ROLL_MS);
    return () => clearInterval(t);
  }, [reloadMinute, reloadOther]);
  const selectId = useId();

  return (
    <div className="overview">
      <PageHeader title="Overview">
        <span className="muted small">Counters: {BUCKET_SPAN.minute}, live</span>
      </PageHeader>
      <FlowCounters funnel={minute} controls={controls.data} now={now} />
      <div className="overview-main">
        <Card
          id="funnel"
          title="Funnel and conversion over time"
          actions={
            <span className="inline-field">
              <label htmlFor={selectId}>Bucket</label>
              <select
                id={selectId}
                value={bucket}
                onChange={(e) => setBucket(e.target.value as Bucket)}
              >
                <option value="minute">By minute ({BUCKET_SPAN.minute})</option>
                <option value="hour">By hour ({BUCKET_SPAN.hour})</option>
                <option value="day">By day ({BUCKET_SPAN.day})</option>
              </select>
            </span>
          }
        >
          <FunnelChart funnel={bucket === "minute" ? minute : other} bucket={bucket} />
        </Card>
        <div className="overview-side">
          <Card id="needs-you" title="Needs you">
            <NeedsYou controls={controls} />
          </Card>
          <Card id="learned" title="Learned lately">
            <LearnedFeed now={now} />
          </Card>
        </div>
      </div>
    </div>
  );
}
