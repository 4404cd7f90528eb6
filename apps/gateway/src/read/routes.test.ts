// The read routes on embedded PGlite through `app.inject`.
import { createDb, migrate } from "@pw/db";
import { routesSuite } from "../../test/read-routes-suite.ts";

routesSuite("PGlite", async () => {
  const handle = await createDb({ driver: "pglite" });
  await migrate(handle);
  return handle;
});
