/**
 * World files: who the leads are — per segment, the distributions of the facts the
 * scoring service reads (`leads`) — and the hidden truth of whether each converts
 * (`leadModel.truth`, an additive logistic model of those facts). lead-model.ts draws
 * the leads; a harness measures the scorer's ranking against the truth.
 */
import { IntentSignalKind } from "@pw/events";
import { z } from "zod";
import { Rate } from "./world-outcomes.ts";

/** The scorer's seniority levels, in the words of apps/scoring (`seniorityOf`). */
export const SENIORITY_LEVELS = [
  "c_level",
  "vp",
  "director",
  "manager",
  "individual",
  "unknown",
] as const;
export type SeniorityLevel = (typeof SENIORITY_LEVELS)[number];

/** The intent signals of `lead.intent_signal.v1`. */
export const SIGNAL_KINDS = IntentSignalKind.options;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

const Weight = z.number().min(0, "a weight is relative: at least 0");
const somePositive = (ws: (number | undefined)[]) => ws.some((w) => (w ?? 0) > 0);
const NEEDS_WEIGHT = "weights are relative: at least one must be above 0";

const Logit = z.number().meta({ description: "Added to the log-odds of converting." });

/** A number of days; a missing one is named as such (an age's parameter). */
const days = () =>
  z.number({
    error: (i) =>
      i.input === undefined ? "missing: a number of days" : "must be a number of days",
  });

/** How long ago a signal happened, in days: the three `dist`s of a Delay, in days. */
export const Age = z
  .discriminatedUnion(
    "dist",
    [
      z.object({ dist: z.literal("fixed"), days: days().min(0) }).strict(),
      z.object({ dist: z.literal("exponential"), meanDays: days().positive() }).strict(),
      z
        .object({
          dist: z.literal("lognormal"),
          medianDays: days().positive(),
          p90Days: days().positive(),
        })
        .strict()
        .refine((d) => d.p90Days > d.medianDays, {
          path: ["p90Days"],
          message: "must be above medianDays",
        }),
    ],
    {
      error: () =>
        'dist must be "fixed" {days}, "exponential" {meanDays} or "lognormal" {medianDays, p90Days}',
    },
  )
  .meta({ description: "How long before the lead is drawn the signal happened, in days." });
export type Age = z.infer<typeof Age>;

/** The keys an age of each `dist` takes (to name them after an unknown one). */
export const AGE_KEYS: Record<string, string[]> = {
  fixed: ["dist", "days"],
  exponential: ["dist", "meanDays"],
  lognormal: ["dist", "medianDays", "p90Days"],
};

const LeadSignal = z
  .object({
    probability: Rate.meta({ description: "Share of the segment's leads with this signal." }),
    ageDays: Age,
    count: z.number().int().min(1).max(20).optional().meta({
      description: "At most this many of it (uniform in 1..count, each its own age); missing: 1.",
    }),
  })
  .strict();

const Employees = z
  .object({
    min: z.number().int().min(1),
    max: z.number().int().max(10_000_000),
    weight: Weight,
  })
  .strict()
  .refine((r) => r.max >= r.min, { path: ["max"], message: "must be at least min" });

export const LeadFacts = z
  .object({
    seniority: z
      .object(Object.fromEntries(SENIORITY_LEVELS.map((l) => [l, Weight.optional()])))
      .strict()
      .refine((w) => somePositive(Object.values(w)), NEEDS_WEIGHT)
      .meta({
        description:
          "Relative weight per level (missing: 0); the lead gets a job title the scorer reads as that level (none for unknown).",
      }),
    employees: z
      .array(Employees)
      .min(1)
      .refine((rs) => somePositive(rs.map((r) => r.weight)), NEEDS_WEIGHT)
      .meta({
        description:
          "Company size: a range drawn by weight, then a whole number log-uniformly in [min, max].",
      }),
    industries: z
      .record(z.string().min(1), Weight)
      .refine((w) => somePositive(Object.values(w)), NEEDS_WEIGHT)
      .meta({ description: "Relative weight per industry (the profile's `industry`)." }),
    signals: z
      .object(Object.fromEntries(SIGNAL_KINDS.map((k) => [k, LeadSignal.optional()])))
      .strict()
      .meta({ description: "Per intent signal, whether a lead has it and how long ago." }),
    engagement: z
      .object({
        opened: Rate.optional().meta({ description: "Share that opened earlier mail." }),
        clicked: Rate.optional().meta({ description: "Share that clicked (at most `opened`)." }),
      })
      .strict()
      .refine((e) => (e.clicked ?? 0) <= (e.opened ?? 0), {
        path: ["clicked"],
        message: "a click is of an opened mail: at most `opened`",
      })
      .optional(),
    consentFalse: Rate.optional().meta({
      description: "Share whose explicit consent is false (missing: 0; else consent unknown).",
    }),
  })
  .strict();
export type LeadFacts = z.infer<typeof LeadFacts>;

const Truth = z
  .object({
    bias: Logit,
    seniority: z
      .object(Object.fromEntries(SENIORITY_LEVELS.map((l) => [l, Logit.optional()])))
      .strict()
      .optional()
      .meta({ description: "Logit per level; missing: 0." }),
    employees: z
      .array(
        z
          .object({ min: z.number().int().min(0), max: z.number().int(), logit: Logit })
          .strict()
          .refine((r) => r.max >= r.min, { path: ["max"], message: "must be at least min" }),
      )
      .optional()
      .meta({ description: "The first range holding the company size adds its logit; none: 0." }),
    industries: z
      .record(z.string().min(1), Logit)
      .optional()
      .meta({ description: 'Logit per industry; "*" for every other one; missing: 0.' }),
    signals: z
      .object(Object.fromEntries(SIGNAL_KINDS.map((k) => [k, Logit.optional()])))
      .strict()
      .optional()
      .meta({ description: "Logit of each signal at age 0 (decays by its half-life); summed." }),
    signalHalfLifeDays: z.number().positive().optional().meta({
      description: "Each signal's logit × 0.5^(age / half-life); required with `signals`.",
    }),
    signalCap: z.number().positive().optional().meta({
      description: "The summed signal logit is at most this; missing: no cap.",
    }),
    engagement: z
      .object({ opened: Logit.optional(), clicked: Logit.optional() })
      .strict()
      .optional()
      .meta({ description: "Logit when the lead opened / clicked earlier mail." }),
    consentFalse: Logit.optional().meta({ description: "Logit when consent is false." }),
    segments: z
      .record(z.string(), Logit)
      .optional()
      .meta({ description: "Extra logit per declared segment." }),
  })
  .strict()
  .refine((t) => t.signals === undefined || t.signalHalfLifeDays !== undefined, {
    path: ["signalHalfLifeDays"],
    message: "missing: signals decay by it",
  });
export type Truth = z.infer<typeof Truth>;

export const LeadModel = z
  .object({
    truth: Truth.meta({
      description:
        "The hidden probability that a lead converts: logistic of bias + the logits of its facts.",
    }),
  })
  .strict();
export type LeadModel = z.infer<typeof LeadModel>;

type Issue = { path: PropertyKey[]; message: string };

/** `leads` and `leadModel` come together, and the truth names only declared segments. */
export function leadModelProblems(w: {
  segments: { name: string; leads?: unknown }[];
  leadModel?: LeadModel | undefined;
}): Issue[] {
  const out: Issue[] = [];
  const withLeads = w.segments.filter((s) => s.leads !== undefined).length;
  if (withLeads > 0 && !w.leadModel)
    out.push({
      path: ["leadModel"],
      message: "missing: segments with `leads` need `leadModel.truth` (who converts)",
    });
  if (w.leadModel)
    for (const [i, s] of w.segments.entries())
      if (s.leads === undefined)
        out.push({
          path: ["segments", i, "leads"],
          message: `missing: with a \`leadModel\`, every segment has \`leads\` (segment '${s.name}')`,
        });
  const names = w.segments.map((s) => s.name);
  for (const name of Object.keys(w.leadModel?.truth.segments ?? {}))
    if (!names.includes(name))
      out.push({
        path: ["leadModel", "truth", "segments", name],
        message: `segment '${name}' is not declared (segments: ${names.join(", ")})`,
      });
  return out;
}

/** The keys an object at `path` (inside a segment's `leads` or `leadModel`) may have. */
export function leadModelKeys(path: readonly PropertyKey[], input: unknown): string[] | undefined {
  const inLeads = path[0] === "segments" && path[2] === "leads";
  const inTruth = path[0] === "leadModel" && path[1] === "truth";
  if (path[0] === "leadModel" && path.length === 1) return Object.keys(LeadModel.shape);
  if (!inLeads && !inTruth) return undefined;
  const rest = path.slice(inLeads ? 3 : 2);
  const [key] = rest;
  if (rest.length === 0) return Object.keys(inLeads ? LeadFacts.shape : Truth.shape);
  if (key === "seniority") return [...SENIORITY_LEVELS];
  if (key === "engagement") return ["opened", "clicked"];
  if (key === "employees") return inLeads ? ["min", "max", "weight"] : ["min", "max", "logit"];
  if (key === "signals" && rest.length === 1) return [...SIGNAL_KINDS];
  if (key === "signals" && rest.length === 2) return Object.keys(LeadSignal.shape);
  if (key === "signals" && rest[2] === "ageDays") {
    const age = path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown>)?.[k], input);
    return AGE_KEYS[String((age as { dist?: unknown })?.dist)] ?? ["dist"];
  }
  return undefined;
}
