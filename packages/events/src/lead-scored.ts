/**
 * Topic `lead.scored.v1` — a lead's score, tier and segment with the reasons
 * behind them and the facts the copywriter needs. Emitted for new leads and on
 * material changes only.
 */
import { z } from "zod";
import { EmailAddress, eventSchema, IsoTime } from "./envelope.ts";

export const Tier = z.enum(["hot", "warm", "cold"]);
export type Tier = z.infer<typeof Tier>;

export const ScoreReason = z.object({
  /** Stable machine code, e.g. `intent.pricing_viewed`. */
  code: z.string().min(1).max(100),
  /** Plain language for operators: "Viewed pricing 2 hours ago". */
  label: z.string().min(1).max(300),
  /** Points this driver added (negative when it pulled the score down). */
  contribution: z.number(),
});
export type ScoreReason = z.infer<typeof ScoreReason>;

export const PersonalisationFacts = z.object({
  email: EmailAddress.optional(),
  firstName: z.string().max(200).optional(),
  company: z.string().max(300).optional(),
  role: z.string().max(300).optional(),
  industry: z.string().max(200).optional(),
  /** The latest intent that triggered outreach, e.g. "viewed pricing". */
  trigger: z.string().max(300).optional(),
  painPoint: z.string().max(500).optional(),
  timezone: z.string().max(64).optional(),
});
export type PersonalisationFacts = z.infer<typeof PersonalisationFacts>;

export const ScorerInfo = z.object({
  scorer: z.enum(["builtin", "stackai"]),
  /** Version of the model that produced the score (built-in weights are versioned). */
  version: z.string().min(1).max(100),
  /** Why the preferred scorer was not used (timeout, 429, invalid output…). */
  fallbackReason: z.string().max(500).optional(),
});
export type ScorerInfo = z.infer<typeof ScorerInfo>;

export const LeadScoredV1 = eventSchema(
  "lead.scored.v1",
  z.object({
    score: z.number().min(0).max(100),
    tier: Tier,
    /** A small, stable set (persona × size band) the experiment engine learns per. */
    segment: z.string().min(1).max(100),
    reasons: z.array(ScoreReason).max(20),
    facts: PersonalisationFacts,
    model: ScorerInfo,
    /** False when consent is withdrawn or the lead is on the do-not-contact list. */
    contactable: z.boolean(),
    previous: z.object({ score: z.number(), tier: Tier, segment: z.string() }).optional(),
    scoredAt: IsoTime,
  }),
);
export type LeadScoredV1 = z.infer<typeof LeadScoredV1>;

export const LeadScored = z.discriminatedUnion("type", [LeadScoredV1]);
export type LeadScored = z.infer<typeof LeadScored>;
