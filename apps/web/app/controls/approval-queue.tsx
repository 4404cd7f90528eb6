"use client";
/**
 * The approval queue: each decision the engine holds while approval mode is on, shown as
 * the lead would receive it (subject and body as text), with why it was chosen, and
 * Approve / Reject with an optional note. A decided item stays in place as a one-line
 * receipt until the service confirms (or refuses) the decision, then can be dismissed —
 * the queue itself refetches live and no longer lists it.
 */
import Link from "next/link";
import { useId, useState } from "react";
import { ApiView } from "../../components/api-view.tsx";
import { usePoll } from "../../components/poll.ts";
import { useRoleGate } from "../../components/role.tsx";
import { Ago } from "../../components/time.tsx";
import { Card, CommandNote, Empty, StatusBadge, TierBadge } from "../../components/ui.tsx";
import { useNow } from "../../components/use-now.ts";
import { useCommand } from "../../lib/command.ts";
import { count, pct } from "../../lib/format.ts";
import { TOPICS } from "../../lib/topics.ts";
import { useApi } from "../../lib/use-api.ts";
import { approvals, type HeldDecision } from "./shapes.ts";

const APPROVALS_POLL_MS = 10_000;
const LIVE = [
  TOPICS.outreachRequested,
  TOPICS.outreachDispatched,
  TOPICS.operatorCommands,
  TOPICS.operatorCommandResults,
  TOPICS.experimentUpdates,
];

export function ApprovalQueue({ approvalMode }: { approvalMode: boolean | undefined }) {
  const state = useApi<unknown>("/api/approvals", { live: LIVE });
  // Held and resolved decisions arrive on experiment.updates.v1; the poll only covers a
  // stream that is down for a while (the queue is what an operator acts on).
  usePoll(state.reload, APPROVALS_POLL_MS);
  /** Items decided in this tab, kept (with their receipt) after they leave the queue. */
  const [decided, setDecided] = useState<Map<string, HeldDecision>>(new Map());
  const now = useNow(5_000);

  return (
    <Card id="approvals" title="Approval queue">
      <ApiView state={state} what="the approval queue" route="GET /api/approvals">
        {(raw) => {
          const { items: waiting, total } = approvals(raw);
          const ids = new Set(waiting.map((d) => d.requestId));
          const gone = [...decided.values()].filter((d) => !ids.has(d.requestId));
          const shown = [...waiting, ...gone];
          return (
            <>
              <p className="muted" role="status" aria-live="polite">
                {total === 0
                  ? "Nothing is waiting for approval."
                  : `${count(total)} decision${total === 1 ? "" : "s"} waiting, oldest first${total > waiting.length ? ` (the first ${count(waiting.length)} shown: decide these to see the rest)` : ""}.`}
              </p>
              {waiting.length === 0 && gone.length === 0 ? (
                <Empty title="The queue is empty.">
                  {approvalMode
                    ? "Approval mode is on: the next decision the engine makes will wait here for you."
                    : "Approval mode is off, so decisions are sent without review. Turn it on above to review each message before it goes out."}
                </Empty>
              ) : (
                <ol className="approval-list">
                  {shown.map((d) => (
                    <ApprovalItem
                      key={d.requestId}
                      item={d}
                      waiting={ids.has(d.requestId)}
                      now={now}
                      onDecide={() => setDecided((m) => new Map(m).set(d.requestId, d))}
                      onDismiss={() =>
                        setDecided((m) => {
                          const next = new Map(m);
                          next.delete(d.requestId);
                          return next;
                        })
                      }
                    />
                  ))}
                </ol>
              )}
            </>
          );
        }}
      </ApiView>
    </Card>
  );
}

function ApprovalItem(p: {
  item: HeldDecision;
  waiting: boolean;
  now: number;
  onDecide(): void;
  onDismiss(): void;
}) {
  const { item } = p;
  const cmd = useCommand();
  const gate = useRoleGate("operator");
  const [note, setNote] = useState("");
  const [decision, setDecision] = useState<"approve" | "reject" | null>(null);
  const noteId = useId();
  const busy = cmd.state.phase === "sending" || cmd.state.phase === "published";
  const leadLabel = item.lead.name
    ? `${item.lead.name}${item.lead.company ? ` (${item.lead.company})` : ""}`
    : item.lead.company || item.lead.id;

  const decide = async (d: "approve" | "reject") => {
    setDecision(d);
    const sent = await cmd.send("/api/commands/approval", {
      requestId: item.requestId,
      decision: d,
      ...(note.trim() ? { note: note.trim() } : {}),
    });
    // Kept on screen (as a receipt) once it leaves the queue — only if it was sent.
    if (sent) p.onDecide();
  };

  if (!p.waiting)
    return (
      <li className="approval approval-done">
        <p>
          <strong>{decision === "reject" ? "Rejected" : "Approved"}</strong> — {leadLabel},{" "}
          {item.variantId} — no longer waiting.
        </p>
        <CommandNote state={cmd.state} />
        <button type="button" className="btn btn-quiet" onClick={p.onDismiss}>
          Dismiss
        </button>
      </li>
    );

  return (
    <li className="approval">
      <div className="approval-head">
        <h3>
          <Link href={`/leads/${encodeURIComponent(item.lead.id)}`}>{leadLabel}</Link>
        </h3>
        {item.lead.role ? <span className="muted">{item.lead.role}</span> : null}
        {item.lead.tier ? <TierBadge tier={item.lead.tier} /> : null}
        <span className="muted small held">
          held <Ago iso={item.heldAt} now={p.now} />
        </span>
      </div>
      <dl className="approval-facts">
        <dt>Segment</dt>
        <dd>{item.segment || "—"}</dd>
        <dt>Variant</dt>
        <dd>
          <code>{item.variantId}</code>
          {item.propensity !== undefined ? (
            <span className="muted small">
              {" "}
              picked with probability {pct(item.propensity)}
              {item.policy ? ` (${item.policy.replaceAll("_", " ")})` : ""}
            </span>
          ) : null}
        </dd>
        <dt>Channel</dt>
        <dd>
          <StatusBadge status={item.channel || "unknown"} />
          {item.cadenceStep !== undefined ? (
            <span className="muted small"> step {item.cadenceStep}</span>
          ) : null}
        </dd>
        {item.to ? (
          <>
            <dt>To</dt>
            <dd>{item.to}</dd>
          </>
        ) : null}
        {item.copy ? (
          <>
            <dt>Written by</dt>
            <dd>{item.copy}</dd>
          </>
        ) : null}
      </dl>
      <figure className="sent-message">
        <figcaption className="muted small">The message exactly as it would be sent</figcaption>
        {item.subject ? (
          <p className="message-subject">
            <span className="muted">Subject: </span>
            {item.subject}
          </p>
        ) : (
          <p className="muted small">(no subject on this channel)</p>
        )}
        <div className="message">{item.body}</div>
      </figure>
      {item.followUps.length > 0 ? (
        <details className="follow-ups">
          <summary>
            Then {item.followUps.length} follow-up{item.followUps.length === 1 ? "" : "s"}, sent
            unless the lead replies or opts out
          </summary>
          <ol>
            {item.followUps.map((f) => (
              <li key={f.step}>
                <p className="muted small">
                  Step {f.step}, {f.delayDays} day{f.delayDays === 1 ? "" : "s"} after the previous
                  one
                </p>
                {f.subject ? (
                  <p className="message-subject">
                    <span className="muted">Subject: </span>
                    {f.subject}
                  </p>
                ) : null}
                <div className="message">{f.body}</div>
              </li>
            ))}
          </ol>
        </details>
      ) : null}
      {item.explanation ? (
        <p className="explanation">
          <span className="muted">Why this message: </span>
          {item.explanation}
        </p>
      ) : null}
      <div className="approval-actions">
        <div className="approval-note">
          <label htmlFor={noteId}>Note (optional, kept in the audit log)</label>
          <input
            id={noteId}
            className="wide"
            maxLength={1000}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            disabled={!gate.allowed || busy}
            title={gate.why}
          />
        </div>
        <button
          type="button"
          className="btn btn-primary"
          disabled={!gate.allowed || busy}
          title={gate.why}
          onClick={() => void decide("approve")}
        >
          Approve and send
        </button>
        <button
          type="button"
          className="btn btn-danger"
          disabled={!gate.allowed || busy}
          title={gate.why}
          onClick={() => void decide("reject")}
        >
          Reject
        </button>
      </div>
      <CommandNote state={cmd.state} />
    </li>
  );
}
