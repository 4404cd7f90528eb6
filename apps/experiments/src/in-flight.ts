/**
 * Sends in flight, judged (ADR 0015, @pw/bandit delay.ts): a request whose window is
 * open and whose reward has not come counts, for P(best), suppression and the
 * explanation, as the share of a failure its age makes likely — F(age), learnt from the
 * delays of rewards whose window closed in the last 90 days. Without it, rewards that
 * arrive early flatter every arm in proportion to its recent traffic. Two grouped reads;
 * nothing is written: the stored counts stay what happened.
 */
import { type ArmState, delayCdf, type InFlight, inFlightFailures } from "@pw/bandit";
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { and, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";

const DAY_S = 86_400;
/** Rewards whose window closed this recently teach how late rewards come. */
const DELAY_MEMORY_DAYS = 90;

export async function judgeInFlight(
  tx: Executor,
  bySegment: Map<string, ArmState[]>,
  now: Date,
  windowMs: number,
): Promise<Map<string, ArmState[]>> {
  const ageDays = sql<number>`floor(extract(epoch from (${now}::timestamptz - ${schema.decisions.requestedAt})) / ${DAY_S})::int`;
  const flying = await tx
    .select({
      segment: schema.decisions.segment,
      variantId: schema.decisions.variantId,
      day: ageDays,
      count: sql<number>`count(*)::int`,
    })
    .from(schema.decisions)
    .where(and(eq(schema.decisions.state, "requested"), isNull(schema.decisions.settledAt)))
    .groupBy(sql`1, 2, 3`); // by position: the age expression carries parameters
  if (flying.length === 0) return bySegment;
  const delayDays = sql<number>`floor(extract(epoch from (${schema.decisions.settledAt} - ${schema.decisions.requestedAt})) / ${DAY_S})::int`;
  const delays = await tx
    .select({ day: delayDays, count: sql<number>`count(*)::int` })
    .from(schema.decisions)
    .where(
      and(
        eq(schema.decisions.rewarded, true),
        isNotNull(schema.decisions.closedAt),
        gt(schema.decisions.closedAt, new Date(now.getTime() - DELAY_MEMORY_DAYS * DAY_S * 1000)),
      ),
    )
    .groupBy(sql`1`);
  const counts: number[] = [];
  for (const d of delays) if (d.day >= 0) counts[d.day] = (counts[d.day] ?? 0) + d.count;
  const cdf = delayCdf(counts, windowMs / (DAY_S * 1000));
  const perArm = new Map<string, InFlight[]>();
  for (const f of flying) {
    const k = `${f.segment}\u0000${f.variantId}`;
    // The middle of its day of age: a send of today is half a day old on average.
    perArm.set(k, [
      ...(perArm.get(k) ?? []),
      { ageDays: Math.max(0, f.day) + 0.5, count: f.count },
    ]);
  }
  return new Map(
    [...bySegment].map(([segment, arms]) => [
      segment,
      arms.map((a) => {
        const pending = perArm.get(`${segment}\u0000${a.id}`);
        return pending ? { ...a, failures: a.failures + inFlightFailures(pending, cdf) } : a;
      }),
    ]),
  );
}
