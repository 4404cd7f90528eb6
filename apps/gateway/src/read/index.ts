/**
 * The gateway's read side: the projection of every topic into its own tables, the live
 * SSE hub, and the dashboard's read routes. start.ts wires them:
 * `createLiveHub` → `readModel(...).subscribeAll(kit)` → `registerReadRoutes(app, …)`.
 */
export { createLiveHub, type LiveConnection, type LiveHub } from "./hub.ts";
export { type Projected, type ReadModel, readModel } from "./project.ts";
export { type Role, registerReadRoutes } from "./routes.ts";
export type { StreamFilter, StreamRow } from "./rows.ts";
export { advance, LEAD_STATUSES, type LeadStatus } from "./status.ts";
