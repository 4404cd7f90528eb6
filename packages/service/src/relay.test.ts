import { createDb, migrate } from "@pw/db";
import { relaySuite } from "./relay-suite.ts";

relaySuite("PGlite", async () => {
  const handle = await createDb({ driver: "pglite" });
  await migrate(handle);
  return { handle, close: () => handle.close() };
});
