/**
 * A world file: segments with their share of leads and the hidden conversion
 * rate of each segment × variant; optionally a drift (new rates from some point).
 * Read strictly: an unknown key, a repeated name or a rate naming something not
 * declared is refused with its JSON path, since a silently ignored typo would make a
 * simulation measure a different world than the one written down.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { InputError } from "./command-line.ts";

const Name = z.string().min(1, "must not be empty");

const Rate = z
  .number()
  .min(0, "a rate is a probability: at least 0")
  .max(1, "a rate is a probability: at most 1");

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
  })
  .strict();

const Drift = z
  .object({
    atFraction: z.number().gt(0).lt(1).meta({
      description: "From this fraction of the run's leads on, the drifted rates apply.",
    }),
    rates: z.record(z.string(), Rates).meta({
      description:
        "Per declared segment, its new rates (every variant); segments not named keep theirs.",
    }),
  })
  .strict();

const WorldShape = z
  .object({
    /** Lets an editor validate the file against docs/schemas/world.schema.json. */
    $schema: z.string().optional(),
    name: Name,
    variants: z.array(Name).min(2).meta({ description: "The arms; unique names." }),
    segments: z.array(Segment).min(1),
    /** From `atFraction` of the leads on, these rates replace the segment's rates. */
    drift: Drift.optional(),
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
});
export type World = z.infer<typeof World>;

/** The JSON Schema of a world file (what an editor can check; cross-references are the loader's). */
export function worldJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://pipeline-whisperer.dev/schemas/world.schema.json",
    title: "Simulator world",
    description:
      "A world for `pnpm sim`, `pnpm sim:engine` and `pnpm ope --simulate` (see packages/simulator/README.md). Also checked on load, beyond this schema: variant and segment names are unique, every segment (and every drifted segment) has a rate for exactly the declared variants, and drift names declared segments.",
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

/** The keys an object at `path` may have, to name them after an unknown one. */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(WorldShape.shape);
  if (path[0] === "segments" && path.length === 2) return Object.keys(Segment.shape);
  if (path[0] === "drift" && path.length === 1) return Object.keys(Drift.shape);
  return [];
}

/** One line per problem: `path: message`. */
export function worldProblems(error: z.ZodError): string[] {
  return error.issues.flatMap((i) => {
    if (i.code === "unrecognized_keys")
      return i.keys.map(
        (k) =>
          `${jsonPath([...i.path, k])}: unknown key (allowed: ${allowedKeys(i.path).join(", ")})`,
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
      worldProblems(parsed.error)
        .map((p) => `${file}: ${p}`)
        .join("\n"),
    );
  return parsed.data;
}
