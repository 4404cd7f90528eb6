/** Thompson-sampling policy for message variants (pure) and seeded randomness. */
export * from "./random.ts";
export * from "./thompson.ts";
