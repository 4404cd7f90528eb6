// Writes one JSON Schema per topic (from the zod schemas) into docs/schemas/,
// so that producers in other languages and reviewers can read the contracts.
// `--check` fails when the committed files are stale.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { TopicSchemas } from "../src/index.ts";

const outDir = join(import.meta.dirname, "../../../docs/schemas");
const check = process.argv.includes("--check");
let stale = 0;

await mkdir(outDir, { recursive: true });
for (const [topic, schema] of Object.entries(TopicSchemas)) {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  const text = `${JSON.stringify({ $id: `https://pipeline-whisperer.dev/schemas/${topic}.json`, title: topic, ...json }, null, 2)}\n`;
  const file = join(outDir, `${topic}.json`);
  if (check) {
    const current = await readFile(file, "utf8").catch(() => "");
    if (current !== text) {
      stale++;
      console.error(`stale: ${file}`);
    }
    continue;
  }
  await writeFile(file, text);
  console.log(`wrote ${file}`);
}
if (stale) {
  console.error(`${stale} schema file(s) out of date: run pnpm gen:schemas`);
  process.exit(1);
}
