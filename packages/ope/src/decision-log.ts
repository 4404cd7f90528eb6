/**
 * The decision log off-policy evaluation reads: settled decisions with the
 * propensity they were made with and the state they were made in
 * (`experiments.decisions.context`), from a JSONL file or the database. Rows that
 * cannot be evaluated (no context, not settled, …) are skipped and counted, not
 * guessed at.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { z } from "zod";

const Prior = z.object({ alpha: z.number().positive(), beta: z.number().positive() });

/** One arm as the engine saw it when deciding (an `ArmState` from @pw/bandit). */
export const ContextArm = z.object({
  id: z.string().min(1),
  successes: z.number().min(0),
  failures: z.number().min(0),
  exposures: z.number().min(0),
  status: z.enum(["active", "suppressed", "paused"]),
  /** The arm's own (pooled) prior, when the engine used one. */
  prior: Prior.optional(),
});
export type ContextArm = z.infer<typeof ContextArm>;

/** `experiments.decisions.context`: the segment's arms and the policy options at decision time. */
export const DecisionContext = z.object({
  arms: z.array(ContextArm).min(1),
  policy: z.object({
    burnIn: z.number().min(0),
    floor: z.number().min(0).max(1),
    prior: Prior,
    draws: z.number().int().positive(),
    /** Non-floor traffic in proportion to P(best)^sharpen (absent: 1, plain Thompson). */
    sharpen: z.number().positive().optional(),
  }),
});
export type DecisionContext = z.infer<typeof DecisionContext>;

export type LoggedDecision = {
  requestId: string;
  segment: string;
  variantId: string;
  /** How the logger picked it: burn_in | thompson | floor | uniform. */
  policy: string;
  propensity: number;
  reward: 0 | 1;
  context: DecisionContext;
  /** Hidden true conversion rate of every variant at this decision (simulated logs only). */
  rates?: Record<string, number>;
};

export type SkipReason =
  | "no_context"
  | "unsettled"
  | "invalid_context"
  | "bad_propensity"
  | "action_not_active";

export type LoadedLog = {
  records: LoggedDecision[];
  skipped: Record<SkipReason, number>;
  /** The first few skipped rows and why, to find them again. */
  examples: string[];
};

export class LogInputError extends Error {
  override name = "LogInputError";
}

/** A row from either source, before the checks that decide whether it can be evaluated. */
export type RawDecision = {
  requestId: string;
  segment: string;
  variantId: string;
  policy: string;
  propensity: number;
  reward: 0 | 1 | null;
  context: unknown;
  rates?: Record<string, number>;
};

export function emptyLog(): LoadedLog {
  return {
    records: [],
    skipped: {
      no_context: 0,
      unsettled: 0,
      invalid_context: 0,
      bad_propensity: 0,
      action_not_active: 0,
    },
    examples: [],
  };
}

/** Adds a row to the log, or counts why it cannot be evaluated (and says which). */
export function admit(log: LoadedLog, row: RawDecision): SkipReason | "admitted" {
  const skip = (reason: SkipReason, detail: string) => {
    log.skipped[reason]++;
    if (log.examples.length < 5) log.examples.push(`${row.requestId}: ${detail}`);
    return reason;
  };
  if (row.reward === null) return skip("unsettled", "no reward yet");
  if (row.context === null || row.context === undefined)
    return skip("no_context", "no context recorded");
  const context = DecisionContext.safeParse(row.context);
  if (!context.success) {
    const issue = context.error.issues[0]!;
    return skip("invalid_context", `context.${issue.path.join(".")}: ${issue.message}`);
  }
  if (!(row.propensity > 0 && row.propensity <= 1))
    return skip("bad_propensity", `propensity ${row.propensity} is not in (0, 1]`);
  const arm = context.data.arms.find((a) => a.id === row.variantId);
  if (arm?.status !== "active")
    return skip("action_not_active", `${row.variantId} is not an active arm of its context`);
  log.records.push({
    requestId: row.requestId,
    segment: row.segment,
    variantId: row.variantId,
    policy: row.policy,
    propensity: row.propensity,
    reward: row.reward,
    context: context.data,
    ...(row.rates ? { rates: row.rates } : {}),
  });
  return "admitted";
}

/** One JSONL line: the `experiments.decisions` columns (snake_case) plus `reward`. */
export const LogLine = z.object({
  request_id: z.string().min(1).optional(),
  lead_id: z.string().optional(),
  segment: z.string().min(1),
  variant_id: z.string().min(1),
  policy: z.string().default("unknown"),
  propensity: z.number(),
  decided_at: z.string().optional(),
  settled_at: z.string().nullish(),
  /** 0/1 (or true/false); `rewarded` as in the table is read when `reward` is absent. */
  reward: z.union([z.literal(0), z.literal(1), z.boolean()]).nullish(),
  rewarded: z.boolean().nullish(),
  context: z.unknown().optional(),
  rates: z.record(z.string(), z.number().min(0).max(1)).optional(),
});
export type LogLine = z.infer<typeof LogLine>;

function rewardOf(line: LogLine): 0 | 1 | null {
  const r = line.reward ?? line.rewarded;
  if (r === null || r === undefined) return null;
  return r === true || r === 1 ? 1 : 0;
}

/** Parses JSONL text; a line that is not a decision stops the load with its line number. */
export function parseJsonlLine(log: LoadedLog, text: string, where: string, index: number): void {
  if (text.trim() === "") return;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LogInputError(`${where}: not valid JSON`);
  }
  const line = LogLine.safeParse(json);
  if (!line.success) {
    const issue = line.error.issues[0]!;
    throw new LogInputError(`${where}: ${issue.path.join(".") || "line"}: ${issue.message}`);
  }
  const l = line.data;
  admit(log, {
    requestId: l.request_id ?? `line-${index}`,
    segment: l.segment,
    variantId: l.variant_id,
    policy: l.policy,
    propensity: l.propensity,
    reward: rewardOf(l),
    context: l.context,
    ...(l.rates ? { rates: l.rates } : {}),
  });
}

export async function readJsonl(file: string): Promise<LoadedLog> {
  const log = emptyLog();
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const text of lines) {
    n++;
    parseJsonlLine(log, text, `${file}:${n}`, n);
  }
  return log;
}

/** A decision as one JSONL line (the format `readJsonl` reads). */
export function toJsonl(d: LoggedDecision): string {
  return JSON.stringify({
    request_id: d.requestId,
    segment: d.segment,
    variant_id: d.variantId,
    policy: d.policy,
    propensity: d.propensity,
    reward: d.reward,
    context: d.context,
    ...(d.rates ? { rates: d.rates } : {}),
  });
}
