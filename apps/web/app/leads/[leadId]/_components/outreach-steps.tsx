/** Journey steps of outreach: the decision, each send (as the lead received it), outcomes. */
import Link from "next/link";
import { pct, safeHref, when } from "../../../../lib/format.ts";
import type { StreamRow } from "../../../../lib/topics.ts";
import {
  type Dispatched,
  type Message,
  messageOf,
  type Outcome,
  type Requested,
  text,
} from "./journey-data.ts";
import { ExternalLink, JourneyItem } from "./journey-item.tsx";

const POLICY: Record<string, string> = {
  burn_in: "burn-in (every variant tried evenly first)",
  thompson: "Thompson sampling",
  floor: "exploration floor",
  operator: "operator override",
  fixed: "fixed variant",
};

export function DecisionStep({ row, now }: { row: StreamRow; now: number }) {
  const d = row.data as Requested;
  const ex = d.explanation;
  const chosen = ex?.arms?.find((a) => a.variantId === d.variantId);
  const step = d.cadenceStep ?? 0;
  return (
    <JourneyItem
      kind="decision"
      label="Decision"
      title={`Chose '${text(d.variantId)}' — ${text(d.channel)}, ${step === 0 ? "first touch" : `step ${step}`}`}
      at={row.at}
      now={now}
    >
      <p className="small">
        P(best) {pct(chosen?.pBest)} · propensity {pct(ex?.propensity)} · policy{" "}
        {POLICY[ex?.policy ?? ""] ?? text(ex?.policy)} · priority{" "}
        {d.priority === undefined ? "—" : Math.round(d.priority)} of 100
        {d.track === "nurture" ? " · nurture track" : ""}
      </p>
      {ex?.summary ? <p className="explanation">{ex.summary}</p> : null}
      {d.copy ? (
        <p className="small muted">
          Copy by {d.copy.writer === "stackai" ? "the stackAI rewrite" : "the template"}
          {d.copy.fallbackReason ? ` (fell back: ${text(d.copy.fallbackReason, 300)})` : ""}
        </p>
      ) : null}
      {d.followUps?.length ? (
        <>
          <p className="small">Follow-ups planned:</p>
          <ul className="reason-list small">
            {d.followUps.map((f) => (
              <li key={f.step}>
                Step {f.step}, {f.delayDays} {f.delayDays === 1 ? "day" : "days"} after the previous
                one{f.subject ? `: "${text(f.subject, 120)}"` : ""}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {ex?.arms?.length ? (
        <details className="small">
          <summary>
            The {ex.arms.length} {ex.arms.length === 1 ? "variant" : "variants"} it weighed
          </summary>
          <table>
            <thead>
              <tr>
                <th scope="col">Variant</th>
                <th scope="col" className="num">
                  P(best)
                </th>
                <th scope="col" className="num">
                  Estimated rate (95% interval)
                </th>
                <th scope="col" className="num">
                  Sends
                </th>
              </tr>
            </thead>
            <tbody>
              {ex.arms.map((a) => (
                <tr key={a.variantId}>
                  <th scope="row">
                    {a.variantId}
                    {a.variantId === d.variantId ? " (chosen)" : ""}
                  </th>
                  <td className="num">{pct(a.pBest)}</td>
                  <td className="num">
                    {pct(a.mean)} ({pct(a.low)}–{pct(a.high)})
                  </td>
                  <td className="num">{a.exposures}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
      {d.segment ? (
        <p className="small">
          <Link href={`/experiments?segment=${encodeURIComponent(d.segment)}`}>
            {d.segment} experiment results
          </Link>
        </p>
      ) : null}
    </JourneyItem>
  );
}

function MessageBox({ message, to }: { message: Message | undefined; to: string | undefined }) {
  if (!message)
    return (
      <p className="small muted">
        The message text is not in this journey (its decision is older than the stream keeps).
      </p>
    );
  return (
    <div className="message-box">
      {to ? <p className="small muted break">To: {to}</p> : null}
      {message.subject ? (
        <p className="message-subject">
          <span className="muted">Subject: </span>
          {message.subject}
        </p>
      ) : null}
      <div className="message">{message.body ?? ""}</div>
    </div>
  );
}

export function DispatchStep({
  row,
  requests,
  now,
}: {
  row: StreamRow;
  requests: Map<string, Requested>;
  now: number;
}) {
  const d = row.data as Dispatched;
  const step = d.cadenceStep ?? 0;
  const stepWords = step === 0 ? "first touch" : `follow-up step ${step}`;
  const req = d.requestId ? requests.get(d.requestId) : undefined;
  const provider = `${text(d.provider?.name)}${d.provider?.messageId ? ` id ${d.provider.messageId}` : ""}`;
  switch (d.status) {
    case "sent":
      return (
        <JourneyItem
          kind="send"
          label="Send"
          title={`Sent ${stepWords} by ${text(d.channel)} ('${text(d.variantId)}')`}
          at={row.at}
          now={now}
        >
          <MessageBox message={messageOf(req, d.cadenceStep)} to={req?.to} />
          <p className="small muted break">
            Provider {provider} · attempt {d.attempt ?? 1}
            {d.track === "nurture" ? " · nurture track" : ""}
          </p>
          {d.nextStepAt ? (
            <p className="small">
              <strong>Follow-up scheduled:</strong> step {step + 1} due {when(d.nextStepAt)}
            </p>
          ) : null}
        </JourneyItem>
      );
    case "deferred":
      return (
        <JourneyItem
          kind="held"
          label="Deferred"
          title={`${capital(stepWords)} deferred`}
          at={row.at}
          now={now}
        >
          <p className="small">
            Why: {text(d.reason, 500)}
            {d.nextStepAt ? ` — next try ${when(d.nextStepAt)}` : ""}
          </p>
        </JourneyItem>
      );
    case "skipped": {
      const cancelled = (d.reason ?? "").startsWith("cadence cancelled");
      return (
        <JourneyItem
          kind="cancelled"
          label={cancelled ? "Follow-up cancelled" : "Skipped"}
          title={`${capital(stepWords)} not sent`}
          at={row.at}
          now={now}
        >
          <p className="small">Why: {text(d.reason, 500)}</p>
        </JourneyItem>
      );
    }
    default:
      return (
        <JourneyItem
          kind="failed"
          label="Failed"
          title={`${capital(stepWords)} failed by ${text(d.channel)}`}
          at={row.at}
          now={now}
        >
          <p className="small">
            Why: {text(d.reason, 500)} · attempt {d.attempt ?? 1} · provider {provider}
          </p>
        </JourneyItem>
      );
  }
}

const OUTCOMES: Record<string, string> = {
  delivered: "Delivered",
  opened: "Opened the message",
  clicked: "Clicked a link",
  replied: "Replied",
  meeting_booked: "Booked a meeting",
  converted: "Converted",
  unsubscribed: "Unsubscribed",
};

export function OutcomeStep({ row, now }: { row: StreamRow; now: number }) {
  const d = row.data as Outcome;
  if (row.type === "outreach.unknown_outcome.v1")
    return (
      <JourneyItem
        kind="outcome"
        label="Outcome"
        title={`Unrecognised outcome '${text(d.originalType)}'`}
        at={d.occurredAt ?? row.at}
        now={now}
      >
        {d.rawKeys?.length ? (
          <p className="small muted">Fields it carried: {d.rawKeys.slice(0, 20).join(", ")}</p>
        ) : null}
      </JourneyItem>
    );
  const title =
    d.outcome === "bounced"
      ? `Bounced (${text(d.bounceType ?? "unknown type")})`
      : (OUTCOMES[d.outcome ?? ""] ?? `Outcome '${text(d.outcome)}'`);
  const href = safeHref(d.url);
  return (
    <JourneyItem kind="outcome" label="Outcome" title={title} at={d.occurredAt ?? row.at} now={now}>
      <p className="small muted">
        {d.variantId ? `Variant '${d.variantId}'` : "Variant unknown"}
        {d.channel ? ` · ${d.channel}` : ""}
        {d.outcome === "replied" ? " · the reply text is not kept by the dashboard" : ""}
      </p>
      {d.url ? (
        <p className="small break">
          Link: <ExternalLink href={href}>{text(d.url, 300)}</ExternalLink>
        </p>
      ) : null}
    </JourneyItem>
  );
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
