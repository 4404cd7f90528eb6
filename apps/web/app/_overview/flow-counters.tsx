"use client";
/**
 * The flow as five live counters — received → scored → decided → sent → converted — each
 * with its total over the last hour, its rate over the last five minutes and a sparkline
 * of the last half hour (per minute). A stage that got nothing while the one before it
 * kept growing is marked "stalled?" in words as well as by its outline.
 */
import Link from "next/link";
import type { Controls } from "../../components/shell.tsx";
import { ErrorNote, Loading } from "../../components/ui.tsx";
import { count, pct } from "../../lib/format.ts";
import type { ApiState } from "../../lib/use-api.ts";
import {
  BUCKET_SPAN,
  type Funnel,
  perMinute,
  rateText,
  recent,
  STAGES,
  STALL_WINDOW_MIN,
  stalled,
  type Totals,
  totals,
} from "./funnel.ts";
import { Sparkline } from "./sparkline.tsx";

const RATE_WINDOW_MIN = 5;
const SPARK_POINTS = 30;

export function FlowCounters({
  funnel,
  controls,
  now,
}: {
  funnel: ApiState<Funnel>;
  controls: Controls | undefined;
  now: number;
}) {
  if (!funnel.data) {
    if (funnel.error) return <ErrorNote error={funnel.error} retry={funnel.reload} />;
    return <Loading what="the pipeline counters" />;
  }
  const series = funnel.data.series;
  const all = totals(series);
  const rates = perMinute(series, RATE_WINDOW_MIN, now);
  const window = totals(recent(series, STALL_WINDOW_MIN, now));
  const spark = series.slice(-SPARK_POINTS);
  return (
    <ol className="flow" aria-label={`Pipeline flow, ${BUCKET_SPAN.minute}`}>
      {STAGES.map((stage, i) => {
        const before = STAGES[i - 1];
        const note = stallNote(i, stalled(window, i) ? window : undefined, controls);
        return (
          <li key={stage.key} className={`counter flow-step ${note ? "stalled" : ""}`}>
            <p className="counter-label">
              <span className="swatch" style={{ background: stage.color }} aria-hidden="true" />
              {stage.label}
            </p>
            <p className="counter-value" title={stage.means}>
              {count(all[stage.key])}
            </p>
            <p className="small muted counter-basis">
              {stage.unit}, {BUCKET_SPAN.minute}
            </p>
            <p className="small counter-rate">
              <strong>{rateText(rates[stage.key])}</strong>{" "}
              <span className="muted">over last {RATE_WINDOW_MIN} min</span>
            </p>
            {before ? (
              <p className="small muted">
                {all[before.key] > 0
                  ? `${pct(all[stage.key] / all[before.key], 0)} of ${count(all[before.key])} ${before.label.toLowerCase()}`
                  : `nothing ${before.label.toLowerCase()} yet`}
              </p>
            ) : (
              <p className="small muted">the start of the pipeline</p>
            )}
            <Sparkline values={spark.map((p) => p[stage.key] ?? 0)} color={stage.color} />
            {note ? (
              <p className="stall-note" role="status">
                <strong>
                  <span aria-hidden="true">⚠ </span>
                  {note.title}
                </strong>{" "}
                {note.detail} <Link href={note.href}>{note.linkText}</Link>
              </p>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

function stallNote(
  index: number,
  /** The window's totals when this stage stalled in it. */
  stalledIn: Totals | undefined,
  controls: Controls | undefined,
): { title: string; detail: string; href: string; linkText: string } | undefined {
  const stage = STAGES[index];
  const before = STAGES[index - 1];
  if (!stage || !before) return undefined;
  if (stage.key === "sent" && controls?.killSwitch?.engaged)
    return {
      title: "stopped",
      detail: "the kill switch is on: nothing is sent.",
      href: "/controls",
      linkText: "Controls",
    };
  if (!stalledIn) return undefined;
  const grew = `none in ${STALL_WINDOW_MIN} min while ${count(stalledIn[before.key])} were ${before.label.toLowerCase()}`;
  if (stage.key === "sent" && controls?.approvalMode?.enabled && controls.pendingApprovals > 0)
    return {
      title: "stalled?",
      detail: `${grew}; ${count(controls.pendingApprovals)} messages wait for approval.`,
      href: "/controls#approvals",
      linkText: "Review approvals",
    };
  return { title: "stalled?", detail: `${grew}.`, href: "/health", linkText: "Check Health" };
}
