/** Thompson-sampling policy for message variants (pure), pooled priors and seeded randomness. */
export * from "./change.ts";
export * from "./delay.ts";
export * from "./guardrails.ts";
export * from "./pooled.ts";
export * from "./random.ts";
export * from "./thompson.ts";
