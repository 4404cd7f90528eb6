/** Tables owned by apps/dispatch (Postgres schema `dispatch`); domain tables arrive with the service. */
import { pgSchema } from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "./messaging.ts";

export const dispatch = pgSchema("dispatch");

export const dispatchOutbox = outboxTable(dispatch);
export const dispatchInbox = inboxTable(dispatch);
