/** A lead as `/api/leads` and `/api/leads/:leadId` answer it (the gateway's lead view). */
export type LeadReason = { code: string; label: string; contribution: number };

export type Lead = {
  leadId: string;
  name: string | null;
  company: string | null;
  email: string | null;
  score: number | null;
  tier: string | null;
  segment: string | null;
  /** new · scored · requested · contacted · replied · meeting_booked · converted · opted_out */
  status: string;
  reasons: LeadReason[] | null;
  priority: number | null;
  updatedAt: string;
};

export type LeadPage = { items: Lead[]; nextCursor: string | null };

/** The filters the API takes, in the order the form shows them. */
export const LEAD_STATUSES = [
  "new",
  "scored",
  "requested",
  "contacted",
  "replied",
  "meeting_booked",
  "converted",
  "opted_out",
] as const;
export const TIERS = ["hot", "warm", "cold"] as const;

/** Status words the queue shows; "requested" is what operators call queued. */
export function statusLabel(status: string): string {
  if (status === "requested") return "queued";
  return status.replaceAll("_", " ");
}

export function statusTone(status: string): "ok" | "warn" | "bad" | undefined {
  if (status === "replied" || status === "meeting_booked" || status === "converted") return "ok";
  if (status === "opted_out") return "bad";
  return undefined;
}

/** The strongest one or two drivers, either way, as words with their points. */
export function topReasons(lead: Pick<Lead, "reasons">, n = 2): string[] {
  return [...(lead.reasons ?? [])]
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
    .slice(0, n)
    .map((r) => `${r.label} (${points(r.contribution)})`);
}

export function points(n: number): string {
  const v = Math.round(n * 10) / 10;
  return `${v > 0 ? "+" : v < 0 ? "−" : "±"}${Math.abs(v)} pts`;
}

export function displayName(lead: Pick<Lead, "name" | "email" | "leadId">): string {
  return lead.name || lead.email || lead.leadId;
}
