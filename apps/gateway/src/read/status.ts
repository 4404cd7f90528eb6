/**
 * The lead's status as the dashboard shows it, and the one rule that keeps it honest:
 * it only moves forward. Events of different topics arrive in any order (a reply can
 * be projected before the send it answers), so each event proposes a status and the
 * furthest one wins; an opt-out wins over everything and is never undone.
 */
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
export type LeadStatus = (typeof LEAD_STATUSES)[number];

const RANK: Record<LeadStatus, number> = {
  new: 0,
  scored: 1,
  requested: 2,
  contacted: 3,
  replied: 4,
  meeting_booked: 5,
  converted: 6,
  opted_out: 100,
};

function rank(status: string): number {
  return (RANK as Record<string, number>)[status] ?? -1;
}

/** The status after an event proposing `next` reached a lead at `current`. */
export function advance(current: string | undefined, next: LeadStatus | undefined): string {
  if (!next) return current ?? "new";
  if (current === undefined) return next;
  return rank(next) > rank(current) ? next : current;
}
