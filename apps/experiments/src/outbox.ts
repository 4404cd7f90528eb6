/** experiments's outbox: events enqueued here are checked against their topic's schema and relayed by the kit. */
import * as schema from "@pw/db/experiments";
import { typedOutbox } from "@pw/service";

export const outbox = typedOutbox(schema.experimentsOutbox);
