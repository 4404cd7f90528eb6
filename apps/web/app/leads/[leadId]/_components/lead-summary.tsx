/** The lead at a glance: who, score and tier with every reason, segment, status, priority. */
import { StatusBadge, TierBadge } from "../../../../components/ui.tsx";
import { ago, chance, SCORE_MEANING, when } from "../../../../lib/format.ts";
import { type Lead, points, statusLabel, statusTone } from "../../_components/lead.ts";

export function LeadSummary({ lead, now }: { lead: Lead; now: number }) {
  return (
    <>
      <dl className="facts">
        <div>
          <dt>Company</dt>
          <dd>{lead.company ?? <span className="muted">unknown</span>}</dd>
        </div>
        <div>
          <dt>E-mail</dt>
          <dd className="break">{lead.email ?? <span className="muted">unknown</span>}</dd>
        </div>
        <div>
          <dt>Score</dt>
          <dd>
            <span className="score" title={SCORE_MEANING}>
              {chance(lead.score)}
            </span>{" "}
            <span className="muted small">likely to convert</span> <TierBadge tier={lead.tier} />
          </dd>
        </div>
        <div>
          <dt>Segment</dt>
          <dd>{lead.segment ?? <span className="muted">not scored yet</span>}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={statusLabel(lead.status)} tone={statusTone(lead.status)} />
          </dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd>
            {lead.priority === null ? (
              <span className="muted">no decision yet</span>
            ) : (
              <>
                {lead.priority} <span className="muted small">of 100</span>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Last change</dt>
          <dd>
            <time dateTime={lead.updatedAt} title={when(lead.updatedAt)}>
              {ago(lead.updatedAt, now)}
            </time>
          </dd>
        </div>
        <div>
          <dt>Lead id</dt>
          <dd>
            <code className="break">{lead.leadId}</code>
          </dd>
        </div>
      </dl>
      {lead.reasons?.length ? (
        <>
          <h3>Why this score</h3>
          <ul className="reason-list reasons">
            {lead.reasons.map((r) => (
              <li key={r.code}>
                {r.label} <span className="muted">({points(r.contribution)})</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}
