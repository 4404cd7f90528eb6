import { embeddedServices } from "../test/harness.ts";
import { ingestSuite } from "../test/ingest-suite.ts";

ingestSuite("embedded (in-process bus, PGlite)", embeddedServices);
