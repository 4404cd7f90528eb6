/**
 * Topic `outreach.settlements.v1` — the experiment engine's final word on a send: its
 * attribution window closed, and the campaign's reward (reply / positive reply / meeting /
 * conversion, as the engine is configured) did or did not arrive inside it. One event per
 * send, published in the transaction that closes the window; keyed by the lead.
 *
 * Scoring learns from these: a rewarded send is a positive, a window that closed in
 * silence a negative — the leads who never answer are most of the market, and a model
 * that never sees them is not a probability (ADR 0017).
 */
import { z } from "zod";
import { eventSchema, IsoTime } from "./envelope.ts";

export const SettlementReward = z.enum([
  "replied",
  "positive_reply",
  "meeting_booked",
  "converted",
]);

export const OutreachSettledV1 = eventSchema(
  "outreach.settled.v1",
  z.object({
    requestId: z.string().min(1).max(200),
    segment: z.string().min(1).max(100),
    variantId: z.string().min(1).max(100),
    /**
     * The `lead.scored.v1` event the engine decided on: what scoring knew about the lead
     * when it was contacted (absent for decisions made before this was recorded).
     */
    scoredEventId: z.string().min(1).max(200).optional(),
    /** The campaign's reward when the send was made. */
    reward: SettlementReward,
    /** Whether the reward arrived inside the window. */
    rewarded: z.boolean(),
    requestedAt: IsoTime,
    closedAt: IsoTime,
  }),
);
export type OutreachSettledV1 = z.infer<typeof OutreachSettledV1>;

export const OutreachSettlement = z.discriminatedUnion("type", [OutreachSettledV1]);
export type OutreachSettlement = z.infer<typeof OutreachSettlement>;
