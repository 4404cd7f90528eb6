// The live stream on embedded PGlite with a real listening server and SSE client.
import { createDb, migrate } from "@pw/db";
import { streamSuite } from "../../test/read-stream-suite.ts";

streamSuite("PGlite", async () => {
  const handle = await createDb({ driver: "pglite" });
  await migrate(handle);
  return handle;
});
