/**
 * A world file: segments with their share of leads and the hidden conversion
 * rate of each segment × variant; optionally a drift (new rates from some point).
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";

const Rates = z.record(z.string().min(1), z.number().min(0).max(1));

export const World = z
  .object({
    name: z.string().min(1),
    variants: z.array(z.string().min(1)).min(2),
    segments: z
      .array(z.object({ name: z.string().min(1), share: z.number().positive(), rates: Rates }))
      .min(1),
    /** From `atFraction` of the leads on, these rates replace the segment's rates. */
    drift: z
      .object({ atFraction: z.number().gt(0).lt(1), rates: z.record(z.string(), Rates) })
      .optional(),
  })
  .superRefine((w, ctx) => {
    for (const [i, s] of w.segments.entries()) {
      for (const v of w.variants) {
        if (s.rates[v] === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["segments", i, "rates", v],
            message: `missing rate for variant ${v}`,
          });
      }
    }
  });
export type World = z.infer<typeof World>;

/** A world file that cannot be used, with every reason (path: message) in the message. */
export class WorldFileError extends Error {
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
  } catch {
    throw new WorldFileError(`${file}: not valid JSON`);
  }
  const parsed = World.safeParse(json);
  if (!parsed.success)
    throw new WorldFileError(
      parsed.error.issues.map((i) => `${file}: ${i.path.join(".")}: ${i.message}`).join("\n"),
    );
  return parsed.data;
}
