"use client";
/**
 * Operator actions on one lead — suppress, unsuppress, prioritise, do-not-contact — sent
 * as signed commands; the note below follows each one until its service confirms it.
 * Viewers see the buttons disabled, with why.
 */
import { useId, useState } from "react";
import { CommandNote } from "../../../../components/ui.tsx";
import { useCommand } from "../../../../lib/command.ts";
import { useSession } from "../../../../lib/session.tsx";

type Action = "suppress" | "unsuppress" | "prioritise" | "do_not_contact";

const ACTIONS: { action: Action; label: string; hint: string; danger?: boolean }[] = [
  { action: "prioritise", label: "Prioritise", hint: "Send to this lead ahead of the queue" },
  {
    action: "suppress",
    label: "Suppress",
    hint: "Hold every send to this lead until unsuppressed",
  },
  { action: "unsuppress", label: "Unsuppress", hint: "Let sends to this lead go again" },
  {
    action: "do_not_contact",
    label: "Do not contact",
    hint: "Withdraw consent for good: every scheduled send stops and none is made again",
    danger: true,
  },
];

export function LeadActions({ leadId }: { leadId: string }) {
  const { can } = useSession();
  const cmd = useCommand();
  const [reason, setReason] = useState("");
  const [last, setLast] = useState<string | null>(null);
  const reasonId = useId();
  const allowed = can("operator");
  const busy = cmd.state.phase === "sending" || cmd.state.phase === "published";

  const run = (a: (typeof ACTIONS)[number]) => {
    if (
      a.danger &&
      !window.confirm(
        "Mark this lead do-not-contact? No message will be sent to them again, and this cannot be undone here.",
      )
    )
      return;
    setLast(a.label);
    void cmd
      .send("/api/commands/lead", {
        leadId,
        action: a.action,
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      })
      .then((r) => {
        if (r) setReason("");
      });
  };

  return (
    <div className="lead-actions">
      {allowed ? null : (
        <p className="small muted">
          You are signed in as a viewer: acting on a lead is for operators and admins.
        </p>
      )}
      <label htmlFor={reasonId}>Reason (optional, kept in the audit log)</label>
      <input
        id={reasonId}
        type="text"
        value={reason}
        maxLength={1000}
        onChange={(e) => setReason(e.target.value)}
        disabled={!allowed}
        placeholder="e.g. asked by their account manager"
      />
      <div className="action-row">
        {ACTIONS.map((a) => (
          <button
            key={a.action}
            type="button"
            className={`btn ${a.danger ? "btn-danger" : ""}`}
            disabled={!allowed || busy}
            title={allowed ? a.hint : "Operators and admins can act on leads"}
            onClick={() => run(a)}
          >
            {a.label}
          </button>
        ))}
      </div>
      {last && cmd.state.phase !== "idle" ? (
        <div className="small">
          <span className="muted">{last}: </span>
          <CommandNote state={cmd.state} />
        </div>
      ) : null}
    </div>
  );
}
