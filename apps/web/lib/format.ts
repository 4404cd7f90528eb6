/** Numbers with their unit and basis, times people read, and links that are safe. */

export function pct(rate: number | null | undefined, digits = 1): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return "—";
  return `${(rate * 100).toFixed(digits)}%`;
}

/**
 * A lead's score — the model's probability (in %) that a contacted lead brings the
 * campaign's reward: "4.7%" (one decimal below 10%), "62%".
 */
export function chance(score: number | null | undefined): string {
  if (score === null || score === undefined || !Number.isFinite(score)) return "—";
  return `${score < 10 ? (Math.round(score * 10) / 10).toFixed(1) : Math.round(score)}%`;
}

/** What a score means, for a tooltip. */
export const SCORE_MEANING =
  "The model's probability that this lead, once contacted, brings the campaign's reward (calibrated by refits on settled sends)";

/** "4.1% of 820 sends" */
export function rateOf(successes: number, trials: number, unit = "sends"): string {
  if (!trials) return `no ${unit} yet`;
  return `${pct(successes / trials)} of ${count(trials)} ${unit}`;
}

export function count(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return new Intl.NumberFormat("en-US").format(n);
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "—";
  const s = Math.round((now - t) / 1000);
  // A few seconds ahead is two clocks disagreeing (the server's event time, this
  // browser's), not the future: say "just now" rather than "in 1 s".
  if (s < 5 && s > -30) return "just now";
  if (s < 0) return `in ${duration(-s)}`;
  return `${duration(s)} ago`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString("en-GB", {
    day: "2-digit",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** A link from event data is rendered only when it is http(s); anything else is text. */
export function safeHref(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** Tier → words (badges carry text, never colour alone). */
export function tierLabel(tier: string | null | undefined): string {
  if (!tier) return "unscored";
  return tier.charAt(0).toUpperCase() + tier.slice(1);
}
