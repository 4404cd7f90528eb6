/** Journey steps about the lead itself: CRM changes, intent signals, scores. */
import { TierBadge } from "../../../../components/ui.tsx";
import { chance, safeHref, tierLabel } from "../../../../lib/format.ts";
import type { StreamRow } from "../../../../lib/topics.ts";
import { points } from "../../_components/lead.ts";
import type { CrmChanged, IntentSignal, Scored } from "./journey-data.ts";
import { text } from "./journey-data.ts";
import { ExternalLink, JourneyItem } from "./journey-item.tsx";

const PROFILE_FIELDS: [string, string][] = [
  ["firstName", "first name"],
  ["lastName", "last name"],
  ["title", "title"],
  ["company", "company"],
  ["email", "e-mail"],
  ["industry", "industry"],
  ["employees", "employees"],
  ["country", "country"],
  ["stage", "stage"],
  ["consent", "consent"],
];

export function CrmStep({ row, now }: { row: StreamRow; now: number }) {
  if (row.type === "lead.unknown_event.v1") {
    const d = row.data as { source?: string; originalType?: string };
    return (
      <JourneyItem
        kind="crm"
        label="CRM"
        title={`Unrecognised event '${text(d.originalType)}' from ${text(d.source)}`}
        at={row.at}
        now={now}
      >
        <p className="small muted">Kept as received; nothing was changed on the lead.</p>
      </JourneyItem>
    );
  }
  const d = row.data as CrmChanged;
  const diff = Object.entries(d.diff ?? {});
  const profile = PROFILE_FIELDS.filter(([k]) => d.profile?.[k] !== undefined);
  const via = d.source === "lightfield_poller" ? "seen by the poller" : "by webhook";
  return (
    <JourneyItem
      kind="crm"
      label="CRM"
      title={`${text(d.objectType ?? "record")} ${text(d.operation ?? "changed")} in Lightfield (${via})`}
      at={d.occurredAt ?? row.at}
      now={now}
    >
      {diff.length ? (
        <ul className="reason-list small">
          {diff.slice(0, 12).map(([field, c]) => (
            <li key={field}>
              <span className="muted">{field.replace(/^\$/, "")}:</span> {text(c.from, 80)} →{" "}
              {text(c.to, 80)}
            </li>
          ))}
        </ul>
      ) : profile.length ? (
        <p className="small">
          {profile.map(([k, label]) => `${label}: ${text(d.profile?.[k], 80)}`).join(" · ")}
        </p>
      ) : null}
    </JourneyItem>
  );
}

const SIGNALS: Record<string, string> = {
  page_viewed: "Viewed a page",
  pricing_viewed: "Viewed pricing",
  demo_requested: "Requested a demo",
  trial_started: "Started a trial",
  form_submitted: "Submitted a form",
};

export function SignalStep({ row, now }: { row: StreamRow; now: number }) {
  const d = row.data as IntentSignal;
  const props = Object.entries(d.properties ?? {}).slice(0, 6);
  const href = safeHref(d.url);
  return (
    <JourneyItem
      kind="signal"
      label="Signal"
      title={SIGNALS[d.signal ?? ""] ?? `Signal '${text(d.signal)}'`}
      at={d.occurredAt ?? row.at}
      now={now}
    >
      {d.url ? (
        <p className="small break">
          Page: <ExternalLink href={href}>{text(d.url, 300)}</ExternalLink>
        </p>
      ) : null}
      {props.length ? (
        <p className="small muted">{props.map(([k, v]) => `${k}: ${text(v, 80)}`).join(" · ")}</p>
      ) : null}
    </JourneyItem>
  );
}

export function ScoreStep({ row, now }: { row: StreamRow; now: number }) {
  const d = row.data as Scored;
  const score = chance(d.score);
  const prev = d.previous;
  const title = prev
    ? `Score ${chance(prev.score)} → ${score}`
    : `Scored ${score} likely to convert`;
  return (
    <JourneyItem kind="score" label="Score" title={title} at={row.at} now={now}>
      <p className="small">
        <TierBadge tier={d.tier} />
        {prev && prev.tier !== d.tier ? ` (was ${tierLabel(prev.tier)})` : ""} · segment{" "}
        {text(d.segment)}
        {prev && prev.segment !== d.segment ? ` (was ${text(prev.segment)})` : ""}
        {d.contactable === false ? (
          <strong> · not contactable (consent withdrawn or do-not-contact)</strong>
        ) : null}
      </p>
      {d.reasons?.length ? (
        <ul className="reason-list small">
          {[...d.reasons]
            .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
            .slice(0, 6)
            .map((r) => (
              <li key={r.code}>
                {r.label} <span className="muted">({points(r.contribution)})</span>
              </li>
            ))}
        </ul>
      ) : null}
      {d.model ? (
        <p className="small muted">
          Model: {text(d.model.scorer)} {text(d.model.version)}
          {d.model.fallbackReason ? ` — fell back: ${text(d.model.fallbackReason, 300)}` : ""}
        </p>
      ) : null}
    </JourneyItem>
  );
}
