/** experiments's outbox: events enqueued here are checked against their topic's schema and relayed by the kit. */
import { schema } from "@pw/db";
import { typedOutbox } from "@pw/service";

export const outbox = typedOutbox(schema.experimentsOutbox);
