/** One lead in the queue; the name is the row's link (the whole row is its click target). */
import Link from "next/link";
import { StatusBadge, TierBadge } from "../../../components/ui.tsx";
import { ago, chance, SCORE_MEANING, when } from "../../../lib/format.ts";
import { displayName, type Lead, statusLabel, statusTone, topReasons } from "./lead.ts";

export function LeadRow({ lead, isNew, now }: { lead: Lead; isNew: boolean; now: number }) {
  const reasons = topReasons(lead);
  return (
    <tr className={`lead-row ${isNew ? "lead-new" : ""}`}>
      <td>
        <Link className="row-link" href={`/leads/${encodeURIComponent(lead.leadId)}`}>
          {displayName(lead)}
        </Link>
        {isNew ? (
          <>
            {" "}
            <span className="badge tone-ok">new</span>
          </>
        ) : null}
        <div className="small muted">{lead.company ?? "company unknown"}</div>
      </td>
      <td className="num">
        <span className="score" title={SCORE_MEANING}>
          {chance(lead.score)}
        </span>{" "}
        <TierBadge tier={lead.tier} />
      </td>
      <td className="reasons">
        {reasons.length ? (
          <ul className="reason-list">
            {reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        ) : (
          <span className="muted">not scored yet</span>
        )}
      </td>
      <td>{lead.segment ?? <span className="muted">—</span>}</td>
      <td>
        <StatusBadge status={statusLabel(lead.status)} tone={statusTone(lead.status)} />
      </td>
      <td className="num">{lead.priority ?? <span className="muted">—</span>}</td>
      <td>
        <time dateTime={lead.updatedAt} title={when(lead.updatedAt)}>
          {ago(lead.updatedAt, now)}
        </time>
      </td>
    </tr>
  );
}
