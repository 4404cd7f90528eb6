/**
 * Operator switches: the kill switch (no new outreach at all) and approval mode
 * (decisions wait for an operator). Operator commands write them; the engine reads
 * them before each drain.
 */
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { eq } from "drizzle-orm";

export const KILL_SWITCH = "kill_switch";
export const APPROVAL_MODE = "approval_mode";
export type Switch = typeof KILL_SWITCH | typeof APPROVAL_MODE;

export async function settingEnabled(db: Executor, key: Switch): Promise<boolean> {
  const [row] = await db.select().from(schema.settings).where(eq(schema.settings.key, key));
  return row?.enabled ?? false;
}

export async function setSwitch(
  tx: Executor,
  key: Switch,
  change: { enabled: boolean; by: string; reason: string | null; at: Date },
): Promise<void> {
  const values = {
    key,
    enabled: change.enabled,
    by: change.by,
    reason: change.reason,
    updatedAt: change.at,
  };
  await tx
    .insert(schema.settings)
    .values(values)
    .onConflictDoUpdate({ target: schema.settings.key, set: values });
}
