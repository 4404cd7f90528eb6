/** Tables owned by apps/gateway (Postgres schema `gateway`); domain tables arrive with the service. */
import { pgSchema } from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "./messaging.ts";

export const gateway = pgSchema("gateway");

export const gatewayOutbox = outboxTable(gateway);
export const gatewayInbox = inboxTable(gateway);
