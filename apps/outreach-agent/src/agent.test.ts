// The agent suite on embedded PGlite.

import { agentSuite } from "../test/agent-suite.ts";
import { pgliteDatabase } from "../test/harness.ts";

agentSuite("PGlite", pgliteDatabase);
