"use client";
/**
 * A lead's journey as a vertical timeline — every event whose subject is this lead, from
 * the CRM change that brought it in to the last outcome — refetched whenever the stream
 * brings a row about this lead.
 */
import { useId, useState } from "react";
import { Empty, ErrorNote, Loading } from "../../../../components/ui.tsx";
import { count } from "../../../../lib/format.ts";
import type { StreamRow } from "../../../../lib/topics.ts";
import type { ApiState } from "../../../../lib/use-api.ts";
import { requestsOf } from "./journey-data.ts";
import { CrmStep, ScoreStep, SignalStep } from "./lead-steps.tsx";
import { OperatorStep, OptOutStep, OtherStep } from "./other-steps.tsx";
import { DecisionStep, DispatchStep, OutcomeStep } from "./outreach-steps.tsx";

export type Journey = { leadId: string; events: StreamRow[]; nextCursor: string | null };
/** How many events one journey request brings (the API's maximum). */
export const JOURNEY_LIMIT = 2_000;

function Step({
  row,
  requests,
  now,
}: {
  row: StreamRow;
  requests: ReturnType<typeof requestsOf>;
  now: number;
}) {
  switch (row.type) {
    case "lead.crm_record_changed.v1":
    case "lead.unknown_event.v1":
      return <CrmStep row={row} now={now} />;
    case "lead.intent_signal.v1":
      return <SignalStep row={row} now={now} />;
    case "lead.scored.v1":
      return <ScoreStep row={row} now={now} />;
    case "outreach.requested.v1":
      return <DecisionStep row={row} now={now} />;
    case "outreach.dispatched.v1":
      return <DispatchStep row={row} requests={requests} now={now} />;
    case "outreach.outcome.v1":
    case "outreach.unknown_outcome.v1":
      return <OutcomeStep row={row} now={now} />;
    case "lead.opted_out.v1":
      return <OptOutStep row={row} now={now} />;
    default:
      if (row.topic.startsWith("operator.")) return <OperatorStep row={row} now={now} />;
      return <OtherStep row={row} now={now} />;
  }
}

export function JourneyTimeline({ journey, now }: { journey: ApiState<Journey>; now: number }) {
  const [newestFirst, setNewestFirst] = useState(true);
  const orderId = useId();
  if (!journey.data) {
    if (journey.error) return <ErrorNote error={journey.error} retry={journey.reload} />;
    return <Loading what="the journey" />;
  }
  const events = journey.data.events;
  if (events.length === 0)
    return (
      <Empty title="Nothing has happened to this lead yet.">
        Its CRM events, scores, decisions, sends and outcomes appear here as they arrive.
      </Empty>
    );
  const requests = requestsOf(events);
  const ordered = newestFirst ? [...events].reverse() : events;
  return (
    <>
      <div className="journey-bar">
        <p className="small muted">
          {count(events.length)} events
          {journey.data.nextCursor
            ? ` (the first ${count(JOURNEY_LIMIT)}; later ones not shown)`
            : ""}
        </p>
        <span className="inline-field">
          <label htmlFor={orderId}>Order</label>
          <select
            id={orderId}
            value={newestFirst ? "newest" : "oldest"}
            onChange={(e) => setNewestFirst(e.target.value === "newest")}
          >
            <option value="newest">Newest first</option>
            <option value="oldest">Oldest first</option>
          </select>
        </span>
      </div>
      {journey.error ? <ErrorNote error={journey.error} retry={journey.reload} /> : null}
      <ol className="journey" aria-label={`Journey, ${newestFirst ? "newest" : "oldest"} first`}>
        {ordered.map((row) => (
          <Step key={row.seq} row={row} requests={requests} now={now} />
        ))}
      </ol>
    </>
  );
}
