/**
 * An estimate and its interval as a bar on an axis shared by the rows it sits beside
 * (0 to `max`); decorative — the numbers are always written next to it as text.
 */
export function IntervalBar(p: {
  mean: number | null;
  low: number | null;
  high: number | null;
  max: number;
  tone?: "baseline";
}) {
  const x = (v: number) => Math.max(0, Math.min(100, (v / p.max) * 100));
  const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);
  return (
    <svg
      className={`xp-interval ${p.tone === "baseline" ? "xp-interval-baseline" : ""}`}
      viewBox="0 0 100 14"
      preserveAspectRatio="none"
      aria-hidden="true"
      focusable="false"
    >
      <line x1="0" x2="100" y1="7" y2="7" className="xp-interval-axis" />
      {finite(p.low) && finite(p.high) ? (
        <rect
          x={x(p.low)}
          width={Math.max(0.8, x(p.high) - x(p.low))}
          y="3"
          height="8"
          rx="1"
          className="xp-interval-range"
        />
      ) : null}
      {finite(p.mean) ? (
        <rect x={x(p.mean) - 0.6} width="1.2" y="0" height="14" className="xp-interval-mean" />
      ) : null}
    </svg>
  );
}
