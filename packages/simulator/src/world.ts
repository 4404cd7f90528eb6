/**
 * A world file: segments with their share of leads and the hidden conversion
 * rate of each segment × variant; optionally (v2) what else recipients do
 * (world-outcomes.ts); optionally a drift (new rates or behaviour from some point);
 * optionally who the leads are and whether they convert (world-leads.ts).
 * Read strictly: an unknown key, a repeated name or a rate naming something not
 * declared is refused with its JSON path, since a silently ignored typo would make a
 * simulation measure a different world than the one written down.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { InputError } from "./command-line.ts";
import { LeadFacts, LeadModel, leadModelKeys, leadModelProblems } from "./world-leads.ts";
import {
  Behaviour,
  DELAY_KEYS,
  DELAY_KINDS,
  Outcomes,
  Rate,
  REPLY_INTENTS,
  type Recipient,
  recipientProblems,
  resolveRecipient,
} from "./world-outcomes.ts";

const Name = z.string().min(1, "must not be empty");

const Rates = z
  .record(z.string(), Rate)
  .meta({ description: "Conversion rate (0–1) per variant; exactly the world's `variants`." });

const Segment = z
  .object({
    name: Name.meta({ description: "Unique among the segments." }),
    share: z.number().positive().meta({
      description: "Relative share of leads (shares are normalised, they need not sum to 1).",
    }),
    rates: Rates,
    /** v2: bounces, opens, clicks, replies, opt-outs, deals and delays (world-outcomes.ts). */
    outcomes: Outcomes.optional(),
    /** Who the segment's leads are, for measuring the scorer (world-leads.ts). */
    leads: LeadFacts.optional().meta({
      description:
        "The segment's leads: distributions of the facts the scorer reads (with `leadModel`).",
    }),
  })
  .strict();

const Drift = z
  .object({
    atFraction: z.number().gt(0).lt(1).meta({
      description: "From this fraction of the run's leads on, the drifted rates apply.",
    }),
    rates: z.record(z.string(), Rates).optional().meta({
      description:
        "Per declared segment, its new rates (every variant); segments not named keep theirs.",
    }),
    outcomes: z.record(z.string(), Outcomes).optional().meta({
      description:
        'Per declared segment, behaviour laid over its own (key by key, "*" then the variant\'s).',
    }),
  })
  .strict()
  .refine((d) => d.rates !== undefined || d.outcomes !== undefined, {
    message: "a drift changes `rates`, `outcomes` or both: give at least one",
  });

const WorldShape = z
  .object({
    /** Lets an editor validate the file against docs/schemas/world.schema.json. */
    $schema: z.string().optional(),
    name: Name,
    variants: z.array(Name).min(2).meta({ description: "The arms; unique names." }),
    segments: z.array(Segment).min(1),
    /** From `atFraction` of the leads on, these rates replace the segment's rates. */
    drift: Drift.optional(),
    /** The hidden truth of which leads convert; every segment then says who its leads are. */
    leadModel: LeadModel.optional().meta({
      description:
        "Whether a lead converts, from its facts (with `leads` in every segment); see lead-model.ts.",
    }),
  })
  .strict();

export const World = WorldShape.superRefine((w, ctx) => {
  const issue = (path: PropertyKey[], message: string) =>
    ctx.addIssue({ code: "custom", path, message });
  const firstAt = new Map<string, number>();
  for (const [i, v] of w.variants.entries()) {
    const first = firstAt.get(v);
    if (first === undefined) firstAt.set(v, i);
    else issue(["variants", i], `variant '${v}' is declared twice (also variants[${first}])`);
  }
  const declared = [...firstAt.keys()];
  const checkRates = (path: PropertyKey[], segment: string, rates: Record<string, number>) => {
    for (const v of Object.keys(rates))
      if (!firstAt.has(v))
        issue(
          [...path, v],
          `variant '${v}' is not declared (segment '${segment}'; variants: ${declared.join(", ")})`,
        );
    for (const v of declared)
      if (rates[v] === undefined)
        issue([...path, v], `segment '${segment}' has no rate for variant '${v}'`);
  };
  const segmentAt = new Map<string, number>();
  for (const [i, s] of w.segments.entries()) {
    const first = segmentAt.get(s.name);
    if (first === undefined) segmentAt.set(s.name, i);
    else
      issue(
        ["segments", i, "name"],
        `segment '${s.name}' is declared twice (also segments[${first}])`,
      );
    checkRates(["segments", i, "rates"], s.name, s.rates);
  }
  for (const [segment, rates] of Object.entries(w.drift?.rates ?? {})) {
    if (!segmentAt.has(segment))
      issue(
        ["drift", "rates", segment],
        `segment '${segment}' is not declared (segments: ${[...segmentAt.keys()].join(", ")})`,
      );
    else checkRates(["drift", "rates", segment], segment, rates);
  }
  const checkVariantKeys = (path: PropertyKey[], segment: string, outcomes?: object) => {
    for (const v of Object.keys(outcomes ?? {}))
      if (v !== "*" && !firstAt.has(v))
        issue(
          [...path, v],
          `variant '${v}' is not declared (segment '${segment}'; "*" is every variant; variants: ${declared.join(", ")})`,
        );
  };
  for (const [i, s] of w.segments.entries())
    checkVariantKeys(["segments", i, "outcomes"], s.name, s.outcomes);
  for (const [segment, outcomes] of Object.entries(w.drift?.outcomes ?? {})) {
    if (!segmentAt.has(segment))
      issue(
        ["drift", "outcomes", segment],
        `segment '${segment}' is not declared (segments: ${[...segmentAt.keys()].join(", ")})`,
      );
    else checkVariantKeys(["drift", "outcomes", segment], segment, outcomes);
  }
  // What the numbers add up to, for every variant as resolved, before and after a drift;
  // a problem several variants share (a segment's "*") is said once, naming them.
  for (const [i, s] of w.segments.entries()) {
    const drifts = w.drift?.outcomes?.[s.name] ?? w.drift?.rates?.[s.name];
    for (const drifted of drifts ? [false, true] : [false]) {
      const found = new Map<string, string[]>();
      for (const v of declared) {
        if (s.rates[v] === undefined) continue;
        const before = drifted ? recipientProblems(recipientOf(w, s, v, false)) : [];
        for (const p of recipientProblems(recipientOf(w, s, v, drifted)))
          if (!before.includes(p)) found.set(p, [...(found.get(p) ?? []), `'${v}'`]);
      }
      const path = drifted
        ? ["drift", w.drift?.outcomes?.[s.name] ? "outcomes" : "rates", s.name]
        : ["segments", i, s.outcomes ? "outcomes" : "rates"];
      const when = drifted ? " after the drift" : "";
      for (const [p, vs] of found)
        issue(path, `${vs.length > 1 ? "variants" : "variant"} ${vs.join(", ")}${when}: ${p}`);
    }
  }
  for (const p of leadModelProblems(w)) issue(p.path, p.message);
});
export type World = z.infer<typeof World>;
type Segment = World["segments"][number];

/** One segment × variant's recipient, before the drift point or after it. */
export function recipientOf(w: World, s: Segment, variant: string, drifted: boolean): Recipient {
  const rates = (drifted && w.drift?.rates?.[s.name]) || s.rates;
  const drift = drifted ? w.drift?.outcomes?.[s.name] : undefined;
  return resolveRecipient(rates[variant] ?? 0, [
    s.outcomes?.["*"],
    s.outcomes?.[variant],
    drift?.["*"],
    drift?.[variant],
  ]);
}

/** The JSON Schema of a world file (what an editor can check; cross-references are the loader's). */
export function worldJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://pipeline-whisperer.dev/schemas/world.schema.json",
    title: "Simulator world",
    description:
      "A world for `pnpm sim`, `pnpm sim:engine` and `pnpm ope --simulate` (see packages/simulator/README.md). Also checked on load, beyond this schema: variant and segment names are unique, every segment (and every drifted segment) has a rate for exactly the declared variants, drift names declared segments, `outcomes` name declared variants (or \"*\"), and each variant's resolved rates compose (bounces + meetings + replies + unsubscribes ≤ 1 of sends, opens ≤ delivered, clicks ≤ opens, replies have an intent mix); `leads` in a segment and `leadModel` come together (then every segment has `leads`), and the truth's `segments` name declared segments.",
    ...z.toJSONSchema(WorldShape, { io: "input", unrepresentable: "any" }),
  };
}

/** `segments[2].rates.roi`; a key that is not an identifier is quoted: `drift.rates["exec-smb"]`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key))
      out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** A segment's or a drift's behaviour for one variant (or "*"): `segments[0].outcomes.roi`. */
const isBehaviour = (p: readonly PropertyKey[]) =>
  p.length === 4 && p[2] === "outcomes" && (p[0] === "segments" || p[1] === "outcomes");

/** The keys an object at `path` may have (a delay's depend on its `dist` in `input`). */
function allowedKeys(path: readonly PropertyKey[], input: unknown): string[] {
  if (path.length === 0) return Object.keys(WorldShape.shape);
  const leadKeys = leadModelKeys(path, input);
  if (leadKeys) return leadKeys;
  if (path[0] === "segments" && path.length === 2) return Object.keys(Segment.shape);
  if (path[0] === "drift" && path.length === 1) return Object.keys(Drift.shape);
  if (isBehaviour(path)) return Object.keys(Behaviour.shape);
  const last = path.at(-1);
  if (isBehaviour(path.slice(0, -1)) && last === "intents") return [...REPLY_INTENTS];
  if (isBehaviour(path.slice(0, -1)) && last === "delays") return [...DELAY_KINDS];
  if (isBehaviour(path.slice(0, -2)) && path.at(-2) === "delays") {
    const delay = path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown>)?.[k], input);
    return DELAY_KEYS[String((delay as { dist?: unknown })?.dist)] ?? ["dist"];
  }
  return [];
}

/** One line per problem: `path: message` (`input`, the file's JSON, names a delay's keys). */
export function worldProblems(error: z.ZodError, input?: unknown): string[] {
  return error.issues.flatMap((i) => {
    if (i.code === "unrecognized_keys")
      return i.keys.map(
        (k) =>
          `${jsonPath([...i.path, k])}: unknown key (allowed: ${allowedKeys(i.path, input).join(", ")})`,
      );
    const at = jsonPath(i.path);
    return [at === "" ? i.message : `${at}: ${i.message}`];
  });
}

/** A world file that cannot be used, with every reason (file: path: message), one per line. */
export class WorldFileError extends InputError {
  override name = "WorldFileError";
}

/** Reads and validates a world file; throws a WorldFileError naming the file and each problem. */
export async function readWorldFile(file: string): Promise<World> {
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    throw new WorldFileError(`${file}: cannot read (${e.code})`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WorldFileError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = World.safeParse(json);
  if (!parsed.success)
    throw new WorldFileError(
      worldProblems(parsed.error, json)
        .map((p) => `${file}: ${p}`)
        .join("\n"),
    );
  return parsed.data;
}
