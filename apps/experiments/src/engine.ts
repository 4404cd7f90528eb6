/**
 * The experiment engine: `engineBuilder({ db, settings, … })` composes its parts —
 * the send queue (queue.ts), the decisions of a drained batch (batch.ts, record.ts, decide.ts), learning from
 * outcomes (learning.ts) and the periodic review (review.ts) — over one context
 * resolved from the settings (context.ts). This module is the engine's public face;
 * the parts never import it, nor operator.ts.
 */
import { type EngineOptions, engineContext } from "./context.ts";
import { learningBuilder } from "./learning.ts";
import { queueBuilder } from "./queue.ts";
import { reviewBuilder } from "./review.ts";

export type { EngineOptions } from "./context.ts";
export { defaultEngineSettings, type EngineSettings } from "./settings.ts";
export { seedPlaybook } from "./store.ts";

export function engineBuilder(options: EngineOptions) {
  const ctx = engineContext(options);
  const { handleScored, drain } = queueBuilder(ctx);
  const { handleOutcome, handleDispatched, settleExpired } = learningBuilder(ctx);
  const { review } = reviewBuilder(ctx);
  return { handleScored, drain, handleOutcome, handleDispatched, settleExpired, review };
}
export type Engine = ReturnType<typeof engineBuilder>;
