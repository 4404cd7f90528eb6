"use client";
/**
 * Lead detail: who the lead is and why it scored as it did, the operator's actions on it,
 * and its journey — every event about it, live.
 */
import Link from "next/link";
import { useParams } from "next/navigation";
import { Card, Empty, ErrorNote, Loading, PageHeader } from "../../../components/ui.tsx";
import { useNow } from "../../../components/use-now.ts";
import { TOPICS } from "../../../lib/topics.ts";
import { useApi } from "../../../lib/use-api.ts";
import { displayName, type Lead } from "../_components/lead.ts";
import { DemoOutcomes } from "./_components/demo-outcomes.tsx";
import { JOURNEY_LIMIT, type Journey, JourneyTimeline } from "./_components/journey.tsx";
import { LeadActions } from "./_components/lead-actions.tsx";
import { LeadSummary } from "./_components/lead-summary.tsx";

const LIVE = [
  TOPICS.leadEvents,
  TOPICS.leadScored,
  TOPICS.outreachRequested,
  TOPICS.outreachDispatched,
  TOPICS.outreachOutcomes,
  TOPICS.leadConsent,
  TOPICS.operatorCommands,
  TOPICS.operatorCommandResults,
];

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export default function LeadPage() {
  const params = useParams<{ leadId: string }>();
  // Lead ids never contain "%": decoding an already decoded id changes nothing.
  const leadId = decode(params.leadId ?? "");
  const base = `/api/leads/${encodeURIComponent(leadId)}`;
  const about = { live: LIVE, filter: (r: { subject: string }) => r.subject === leadId };
  const lead = useApi<Lead>(base, about);
  const journey = useApi<Journey>(`${base}/journey?limit=${JOURNEY_LIMIT}`, about);
  const now = useNow();
  const back = <Link href="/leads">← Lead queue</Link>;

  if (lead.error?.status === 404 || (lead.error?.status === 400 && !lead.data))
    return (
      <>
        <PageHeader title="Lead not found">{back}</PageHeader>
        <Empty title={`There is no lead '${leadId}'.`}>
          It may not have been received yet, or its id is mistyped. Find it in the{" "}
          <Link href={`/leads?q=${encodeURIComponent(leadId)}`}>lead queue</Link>.
        </Empty>
      </>
    );

  return (
    <>
      <PageHeader title={lead.data ? displayName(lead.data) : "Lead"}>{back}</PageHeader>
      <div className="lead-top">
        <Card id="lead" title="Lead">
          {lead.data ? (
            <LeadSummary lead={lead.data} now={now} />
          ) : lead.error ? (
            <ErrorNote error={lead.error} retry={lead.reload} />
          ) : (
            <Loading what="the lead" />
          )}
          {lead.data && lead.error ? <ErrorNote error={lead.error} retry={lead.reload} /> : null}
        </Card>
        <Card id="actions" title="Operator actions">
          <LeadActions leadId={leadId} />
          <DemoOutcomes leadId={leadId} />
        </Card>
      </div>
      <Card id="journey" title="Journey">
        <JourneyTimeline journey={journey} now={now} />
      </Card>
    </>
  );
}
