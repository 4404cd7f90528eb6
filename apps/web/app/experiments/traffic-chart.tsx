"use client";
/**
 * Traffic share over time as a stacked area: the picture of the engine moving traffic
 * towards what works. By default each point is a window of new sends (so a shift shows
 * when it happens); "all sends so far" shows the cumulative share the API reports.
 * Status changes are marked on the chart and listed as text; the numbers behind every
 * point are in the tooltip and in a table under the chart (nothing rests on colour).
 */
import { useId, useMemo, useState } from "react";
import {
  Area,
  AreaChart,
  CartesianGrid,
  Legend,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  type TooltipContentProps,
  type TooltipValueType,
  XAxis,
  YAxis,
} from "recharts";
import { count, pct, when } from "../../lib/format.ts";
import { type Snapshot, sendsInHistory, shareWindows } from "./model.ts";

/** Okabe–Ito: told apart with the common colour-vision deficiencies, and on a dark panel. */
const PALETTE = [
  "#56B4E9",
  "#E69F00",
  "#009E73",
  "#F0E442",
  "#CC79A7",
  "#D55E00",
  "#8fb8ff",
  "#bbbbbb",
];

export function variantColours(variants: readonly string[]): Map<string, string> {
  return new Map([...variants].sort().map((v, i) => [v, PALETTE[i % PALETTE.length]!]));
}

type Point = {
  t: number;
  at: string;
  /** The sends this point's shares are of. */
  sends: number;
  share: Record<string, number>;
  counts: Record<string, number>;
};

type Mode = "window" | "cumulative";

/** About this many points in window mode: enough to see a shift, few enough to read. */
const TARGET_POINTS = 40;

export function TrafficChart({ snapshots }: { snapshots: readonly Snapshot[] }) {
  const [mode, setMode] = useState<Mode>("window");
  const radioName = useId();
  const variants = useMemo(() => {
    const all = new Set<string>();
    for (const s of snapshots) for (const v of Object.keys(s.exposures)) all.add(v);
    return [...all].sort();
  }, [snapshots]);
  const colours = variantColours(variants);

  const newSends = useMemo(() => sendsInHistory(snapshots), [snapshots]);
  const windowSize = Math.max(5, Math.ceil(newSends / TARGET_POINTS));
  const windowed = useMemo<Point[]>(
    () =>
      shareWindows(snapshots, windowSize).map((w) => ({
        t: Date.parse(w.at),
        at: w.at,
        sends: w.sends,
        share: w.share,
        counts: w.counts,
      })),
    [snapshots, windowSize],
  );
  const cumulative = useMemo<Point[]>(
    () =>
      snapshots
        .filter((s) => s.total > 0)
        .map((s) => ({
          t: Date.parse(s.at),
          at: s.at,
          sends: s.total,
          share: s.share,
          counts: s.exposures,
        })),
    [snapshots],
  );
  // Windows need at least two of them to draw a change.
  const effective: Mode = mode === "window" && windowed.length < 2 ? "cumulative" : mode;
  const points = effective === "window" ? windowed : cumulative;
  const changes = useMemo(() => statusChanges(snapshots), [snapshots]);
  const byT = new Map(points.map((p) => [p.t, p]));
  const span = (points.at(-1)?.t ?? 0) - (points[0]?.t ?? 0);

  if (points.length === 0)
    return (
      <p className="muted">
        No sends recorded in this segment's snapshots yet. The chart fills in as the engine decides
        and the experiments service publishes its reviews.
      </p>
    );

  return (
    <div className="xp-traffic">
      <fieldset className="xp-mode">
        <legend className="small">Each point shows</legend>
        <label className="xp-radio">
          <input
            type="radio"
            name={radioName}
            checked={mode === "window"}
            onChange={() => setMode("window")}
          />{" "}
          Share of each window of at least {count(windowSize)} new sends
        </label>
        <label className="xp-radio">
          <input
            type="radio"
            name={radioName}
            checked={mode === "cumulative"}
            onChange={() => setMode("cumulative")}
          />{" "}
          Share of all sends so far
        </label>
      </fieldset>
      {mode === "window" && effective === "cumulative" ? (
        <p className="muted small">
          Too few new sends in the history to split into windows: showing the share of all sends.
        </p>
      ) : null}
      <div className="xp-chart" role="img" aria-label={chartLabel(points, variants, effective)}>
        <ResponsiveContainer width="100%" height={280}>
          <AreaChart
            data={points}
            margin={{ top: 8, right: 16, bottom: 4, left: 0 }}
            // The chart is an image with a text description; the table below is the
            // keyboard's way to the numbers.
            accessibilityLayer={false}
          >
            <CartesianGrid stroke="#2d3945" strokeDasharray="3 3" />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={["dataMin", "dataMax"]}
              tickFormatter={(t: number) => shortTime(t, span)}
              stroke="#aab6c2"
              minTickGap={40}
            />
            <YAxis
              domain={[0, 1]}
              tickFormatter={(v: number) => pct(v, 0)}
              stroke="#aab6c2"
              width={48}
            />
            <Tooltip
              content={(props: TooltipContentProps<TooltipValueType, string | number>) => (
                <ShareTooltip
                  point={typeof props.label === "number" ? byT.get(props.label) : undefined}
                  active={props.active}
                  variants={variants}
                  mode={effective}
                />
              )}
            />
            <Legend wrapperStyle={{ color: "#eef2f6" }} />
            {changes
              .filter((c) => c.to !== "active")
              .map((c) => (
                <ReferenceLine
                  key={`${c.variantId}-${c.at}`}
                  x={Date.parse(c.at)}
                  stroke="#ff8a80"
                  strokeDasharray="4 3"
                />
              ))}
            {variants.map((v) => (
              <Area
                key={v}
                type="stepAfter"
                stackId="share"
                name={v}
                dataKey={(p: Point) => p.share[v] ?? 0}
                stroke={colours.get(v)}
                fill={colours.get(v)}
                fillOpacity={0.55}
                isAnimationActive={false}
              />
            ))}
          </AreaChart>
        </ResponsiveContainer>
      </div>
      {changes.length > 0 ? (
        <div className="small">
          <strong>Status changes</strong> (dashed lines on the chart):
          <ul className="xp-changes">
            {changes.map((c) => (
              <li key={`${c.variantId}-${c.at}`}>
                {when(c.at)}: <code>{c.variantId}</code> {c.from} → {c.to}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <details className="xp-data">
        <summary>The numbers behind the chart</summary>
        <div className="xp-data-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{effective === "window" ? "Window ending" : "Snapshot"}</th>
                <th scope="col" className="num">
                  Sends
                </th>
                {variants.map((v) => (
                  <th key={v} scope="col" className="num">
                    {v}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {[...points].reverse().map((p) => (
                <tr key={p.t}>
                  <td>{when(p.at)}</td>
                  <td className="num">{count(p.sends)}</td>
                  {variants.map((v) => (
                    <td key={v} className="num">
                      {pct(p.share[v] ?? 0, 0)} ({count(p.counts[v] ?? 0)})
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}

function ShareTooltip(p: {
  point: Point | undefined;
  active: boolean | undefined;
  variants: readonly string[];
  mode: Mode;
}) {
  if (!p.active || !p.point) return null;
  const pt = p.point;
  return (
    <div className="xp-tooltip">
      <p className="xp-tooltip-head">
        <strong>{when(pt.at)}</strong>
        <br />
        {p.mode === "window"
          ? `${count(pt.sends)} sends in this window`
          : `${count(pt.sends)} sends so far`}
      </p>
      <ul>
        {[...p.variants].reverse().map((v) => (
          <li key={v}>
            <code>{v}</code>: {pct(pt.share[v] ?? 0, 0)} ({count(pt.counts[v] ?? 0)} sends)
          </li>
        ))}
      </ul>
    </div>
  );
}

type Change = { at: string; variantId: string; from: string; to: string };

/** Where a variant's status differs from the snapshot before (as the history saw it). */
function statusChanges(snapshots: readonly Snapshot[]): Change[] {
  const out: Change[] = [];
  const last = new Map<string, string>();
  for (const s of snapshots) {
    for (const [v, status] of Object.entries(s.status)) {
      const before = last.get(v);
      if (before !== undefined && before !== status)
        out.push({ at: s.at, variantId: v, from: before, to: status });
      last.set(v, status);
    }
  }
  return out;
}

function chartLabel(points: readonly Point[], variants: readonly string[], mode: Mode): string {
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last) return "Traffic share over time: no data";
  const describe = (p: Point) => variants.map((v) => `${v} ${pct(p.share[v] ?? 0, 0)}`).join(", ");
  const basis = mode === "window" ? "of each window of new sends" : "of all sends so far";
  return `Traffic share over time (${basis}), stacked by variant. First point ${when(first.at)}: ${describe(first)}. Latest ${when(last.at)}: ${describe(last)}. The table below the chart lists every point.`;
}

/** Clock time for a chart within a day; the date too when it spans more. */
function shortTime(t: number, spanMs: number): string {
  const d = new Date(t);
  return spanMs > 86_400_000
    ? d.toLocaleString("en-GB", {
        day: "2-digit",
        month: "short",
        hour: "2-digit",
        minute: "2-digit",
      })
    : d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}
