// Writes the JSON Schema of a world file into docs/schemas/world.schema.json (from the
// zod schema), so that an editor can check a world file as it is written (`"$schema"`).
// `--check` fails when the committed file is stale. Run by `pnpm gen:schemas`.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { worldJsonSchema } from "../src/world.ts";

const file = join(import.meta.dirname, "../../../docs/schemas/world.schema.json");
const text = `${JSON.stringify(worldJsonSchema(), null, 2)}\n`;

if (process.argv.includes("--check")) {
  const current = await readFile(file, "utf8").catch(() => "");
  if (current !== text) {
    console.error(`stale: ${file}: run pnpm gen:schemas`);
    process.exit(1);
  }
} else {
  await writeFile(file, text);
  console.log(`wrote ${file}`);
}
