"use client";
/**
 * The funnel over time (one line per stage, each with its own dash pattern as well as its
 * colour) and the conversion rate (converted ÷ sent, cumulative over the window) on a
 * second axis. A caption states the totals in words; the numbers are also a table.
 */
import {
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { Empty, ErrorNote, Loading } from "../../components/ui.tsx";
import { count, pct, rateOf } from "../../lib/format.ts";
import type { ApiState } from "../../lib/use-api.ts";
import { BUCKET_SPAN, type Bucket, type Funnel, STAGES, tickLabel, totals } from "./funnel.ts";

const RATE_COLOR = "#eef2f6";

export function FunnelChart({ funnel, bucket }: { funnel: ApiState<Funnel>; bucket: Bucket }) {
  if (!funnel.data || funnel.data.bucket !== bucket) {
    if (funnel.error) return <ErrorNote error={funnel.error} retry={funnel.reload} />;
    return <Loading what="the funnel" />;
  }
  const series = funnel.data.series;
  const all = totals(series);
  if (STAGES.every((s) => all[s.key] === 0))
    return (
      <Empty title={`No pipeline activity in the ${BUCKET_SPAN[bucket]}.`}>
        Pick a longer bucket above, start the demo (<code>pnpm demo</code>), or send a signed
        webhook to ingest (<code>POST /webhooks/lightfield</code>) to see leads flow through.
      </Empty>
    );
  let sent = 0;
  let converted = 0;
  const data = series.map((p) => {
    sent += p.sent;
    converted += p.converted;
    return { ...p, label: tickLabel(p.start, bucket), rate: sent > 0 ? converted / sent : null };
  });
  const caption = `${STAGES.map((s) => `${count(all[s.key])} ${s.label.toLowerCase()}`).join(", ")} in the ${BUCKET_SPAN[bucket]}; conversion ${rateOf(all.converted, all.sent)}.`;
  return (
    <figure className="funnel-figure">
      <div className="funnel-chart" role="img" aria-label={`Funnel by ${bucket}: ${caption}`}>
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart
            data={data}
            margin={{ top: 6, right: 8, bottom: 0, left: -8 }}
            accessibilityLayer={false}
          >
            <CartesianGrid stroke="#2d3945" strokeDasharray="3 3" />
            <XAxis dataKey="label" stroke="#aab6c2" tick={{ fontSize: 12 }} minTickGap={24} />
            <YAxis
              yAxisId="n"
              stroke="#aab6c2"
              tick={{ fontSize: 12 }}
              allowDecimals={false}
              width={44}
            />
            <YAxis
              yAxisId="rate"
              orientation="right"
              stroke="#aab6c2"
              tick={{ fontSize: 12 }}
              tickFormatter={(v: number) => pct(v, 0)}
              width={44}
            />
            <Tooltip
              contentStyle={{ background: "#171e26", border: "1px solid #2d3945" }}
              labelStyle={{ color: "#eef2f6" }}
              formatter={(value, name) =>
                name === "Conversion rate"
                  ? [pct(typeof value === "number" ? value : null), name]
                  : [count(typeof value === "number" ? value : null), name]
              }
            />
            <Legend wrapperStyle={{ fontSize: 13 }} />
            {STAGES.map((s) => (
              <Line
                key={s.key}
                yAxisId="n"
                type="monotone"
                dataKey={s.key}
                name={s.label}
                stroke={s.color}
                strokeDasharray={s.dash}
                strokeWidth={2}
                dot={false}
                isAnimationActive={false}
              />
            ))}
            <Line
              yAxisId="rate"
              type="monotone"
              dataKey="rate"
              name="Conversion rate"
              stroke={RATE_COLOR}
              strokeDasharray="1 4"
              strokeWidth={2.5}
              dot={false}
              connectNulls
              isAnimationActive={false}
            />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="small muted">
        {caption} Conversion rate: converted ÷ sent, cumulative over the window.
      </figcaption>
      <details className="small">
        <summary>Show the numbers as a table</summary>
        <div className="scroll-x">
          <table>
            <thead>
              <tr>
                <th scope="col">
                  {bucket === "day" ? "Day" : bucket === "hour" ? "Hour" : "Minute"}
                </th>
                {STAGES.map((s) => (
                  <th key={s.key} scope="col" className="num">
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data
                .filter((p) => STAGES.some((s) => p[s.key] > 0))
                .map((p) => (
                  <tr key={p.start}>
                    <th scope="row">{p.label}</th>
                    {STAGES.map((s) => (
                      <td key={s.key} className="num">
                        {count(p[s.key])}
                      </td>
                    ))}
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
