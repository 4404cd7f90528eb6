/**
 * "Learned lately": the experiments' status changes as plain sentences an operator reads
 * in a second, each with the numbers behind it.
 */
export type ArmNumbers = { pBest: number; mean: number; exposures: number; successes: number };

export type StatusChange = {
  segment: string;
  variantId: string;
  from: string;
  to: string;
  reason: string;
  by: string;
};

const VERB: Record<string, string> = {
  suppressed: "Suppressed",
  paused: "Paused",
  retired: "Retired",
};

function percent(p: number): string {
  const v = p * 100;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}%`;
}

export function sentence(change: StatusChange, numbers: ArmNumbers | undefined): string {
  const verb =
    VERB[change.to] ??
    (change.to === "active" ? (change.from === "paused" ? "Resumed" : "Revived") : "Changed");
  const who = change.by === "operator" ? " (by an operator)" : "";
  const evidence = numbers
    ? ` (P(best) ${percent(numbers.pBest)}, ${numbers.successes} of ${numbers.exposures} sends succeeded, rate ${percent(numbers.mean)})`
    : "";
  return `${verb} '${change.variantId}' for ${change.segment}${who}: ${change.reason}${evidence}`;
}
