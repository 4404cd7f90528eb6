/**
 * Scoring's stackAI flow: the lead (profile, signals, engagement) goes in, and
 * `out-0` must be this JSON — score, tier, segment, reasons, optional message.
 * The transport and its guard rails (timeout, retries, breaker) are @pw/stackai;
 * any StackAiError it throws makes the service fall back to the built-in model.
 */
import { Tier } from "@pw/events";
import type { StackAiClient } from "@pw/stackai";
import { z } from "zod";

export const FlowOutput = z.object({
  score: z.number().min(0).max(100),
  tier: Tier,
  segment: z.string().min(1).max(100),
  reasons: z
    .array(
      z.union([
        z.string().min(1).max(300),
        z.object({ label: z.string().min(1).max(300), contribution: z.number().optional() }),
      ]),
    )
    .max(20),
  message: z.string().max(5_000).optional(),
});
export type FlowOutput = z.infer<typeof FlowOutput>;

export function createStackAiScorer(client: StackAiClient) {
  return {
    score: (leadId: string, lead: unknown): Promise<FlowOutput> =>
      client.run(leadId, lead, FlowOutput),
  };
}
export type StackAiScorer = ReturnType<typeof createStackAiScorer>;
