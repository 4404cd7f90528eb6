/** Tables owned by apps/experiments (Postgres schema `experiments`); domain tables arrive with the service. */
import { pgSchema } from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "./messaging.ts";

export const experiments = pgSchema("experiments");

export const experimentsOutbox = outboxTable(experiments);
export const experimentsInbox = inboxTable(experiments);
