/**
 * stackAI's score for each lead event, asked before the transaction opens: a
 * slow vendor must not hold row locks. The vendor sees the lead as stored plus
 * what the event brings; a failure becomes the reason the built-in model was
 * used instead.
 */
import type { Db } from "@pw/db";
import type { LeadEvent } from "@pw/events";
import type { Logger } from "@pw/logger";
import { captureError, countMetric } from "@pw/telemetry";
import { engagementOf, loadLeads, profileOf } from "./lead-store.ts";
import type { Engagement, Profile, Signal } from "./model/features.ts";
import { applyEvent, flatten, MAX_SIGNALS, signalOf, signalWindowStart } from "./profile.ts";
import type { FlowOutput, StackAiScorer } from "./stackai-scorer.ts";

/** undefined when stackAI is not configured or not asked. */
export type VendorView = { ok: true; out: FlowOutput } | { ok: false; reason: string } | undefined;

export type VendorDeps = { db: Db; stackai?: StackAiScorer; logger?: Logger; now: () => Date };

export async function askStackAi(
  deps: VendorDeps,
  leadId: string,
  lead: { profile: Profile; signals: Signal[]; engagement: Engagement },
): Promise<VendorView> {
  if (!deps.stackai) return undefined;
  try {
    return { ok: true, out: await deps.stackai.score(leadId, { leadId, ...lead }) };
  } catch (error) {
    const reason = (error as { reason?: string }).reason ?? "error";
    deps.logger?.warn({ leadId, reason }, "stackAI unavailable; using the built-in model");
    // After the client's retries: one issue per cause (timeout, http_500, invalid_output…).
    countMetric("pw.vendor_fallbacks", 1, { vendor: "stackai", reason });
    captureError(error, {
      fingerprint: ["vendor", "stackai", reason],
      tags: { "lead.id": leadId, vendor: "stackai", reason },
      level: "warning",
    });
    return { ok: false, reason: `stackAI ${reason}: ${(error as Error).message}`.slice(0, 480) };
  }
}

/** One view per event, in order; each sees the lead as stored before the batch. */
export async function vendorViews(deps: VendorDeps, events: LeadEvent[]): Promise<VendorView[]> {
  if (!deps.stackai) return events.map(() => undefined);
  const leadIds = events.filter((e) => e.type !== "lead.unknown_event.v1").map((e) => e.subject);
  const leads = await loadLeads(deps.db, [...new Set(leadIds)], signalWindowStart(deps.now()), {
    lock: false,
  });
  return Promise.all(
    events.map((event) => {
      if (event.type === "lead.unknown_event.v1") return undefined;
      const lead = leads.get(event.subject)!;
      const signals = lead.signals.slice(0, MAX_SIGNALS);
      if (event.type === "lead.intent_signal.v1") signals.unshift(signalOf(event));
      return askStackAi(deps, event.subject, {
        profile: flatten(applyEvent(profileOf(lead.row), event)),
        signals,
        engagement: engagementOf(lead.row),
      });
    }),
  );
}
