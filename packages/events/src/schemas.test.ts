// The JSON Schemas in docs/schemas are generated from the zod schemas; this
// fails when someone changes a contract without regenerating them.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { TopicSchemas } from "./index.ts";

describe("generated JSON Schemas", () => {
  for (const [topic, schema] of Object.entries(TopicSchemas)) {
    it(`docs/schemas/${topic}.json is up to date`, async () => {
      const file = join(import.meta.dirname, "../../../docs/schemas", `${topic}.json`);
      const committed = JSON.parse(await readFile(file, "utf8"));
      const { $id: _id, title: _title, ...rest } = committed;
      expect(rest).toEqual(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }));
    });
  }
});
