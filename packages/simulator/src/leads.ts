/**
 * The leads of a world: the segment each one is in (drawn by the segments' shares) and
 * the hidden reward rates at its position in the run (the drifted ones from the drift
 * point on). Shared by `pnpm sim`, `pnpm sim:engine` and `pnpm ope --simulate`.
 */
import type { Rng } from "@pw/bandit";
import type { World } from "./world.ts";

/** The hidden rates of a segment at a lead (after the drift point, the drifted ones). */
export function ratesAt(
  world: World,
  segment: string,
  lead: number,
  total: number,
): Record<string, number> {
  const base = world.segments.find((s) => s.name === segment)!.rates;
  if (world.drift && lead >= world.drift.atFraction * total)
    return world.drift.rates?.[segment] ?? base;
  return base;
}

/** A segment drawn by the world's shares. */
export function pickSegment(world: World, rng: Rng): string {
  const total = world.segments.reduce((n, s) => n + s.share, 0);
  let x = rng() * total;
  for (const s of world.segments) {
    x -= s.share;
    if (x <= 0) return s.name;
  }
  return world.segments.at(-1)!.name;
}
