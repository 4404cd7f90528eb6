"use client";
/**
 * The two global switches, each with its state in words and who set it, when and why:
 * the kill switch (nothing is sent while it is on) and approval mode (every decision
 * waits in the queue below for a person).
 */
import { ApiView } from "../../components/api-view.tsx";
import { ConfirmButton } from "../../components/confirm-button.tsx";
import { useRoleGate } from "../../components/role.tsx";
import type { useControls } from "../../components/shell.tsx";
import { Ago } from "../../components/time.tsx";
import { Card, CommandNote } from "../../components/ui.tsx";
import { useNow } from "../../components/use-now.ts";
import { useCommand } from "../../lib/command.ts";
import { count } from "../../lib/format.ts";
import { type SwitchState, switchState } from "./shapes.ts";

export function SafetySwitches({ controls }: { controls: ReturnType<typeof useControls> }) {
  return (
    <div className="grid grid-2">
      <Card id="kill-switch" title="Kill switch">
        <ApiView state={controls} what="the kill switch" route="GET /api/controls">
          {(c) => <KillSwitch k={switchState(c.killSwitch, "engaged")} />}
        </ApiView>
      </Card>
      <Card id="approval-mode" title="Approval mode">
        <ApiView state={controls} what="approval mode" route="GET /api/controls">
          {(c) => (
            <ApprovalMode
              mode={switchState(c.approvalMode, "enabled")}
              pending={c.pendingApprovals}
            />
          )}
        </ApiView>
      </Card>
    </div>
  );
}

/** Who set it, when and why, which services confirmed it, and a change still on its way. */
function Setter({ s, words }: { s: SwitchState; words: (on: boolean) => string }) {
  const now = useNow(5_000);
  return (
    <>
      {!s.by && !s.at ? (
        <p className="muted">No one has changed it since the system started.</p>
      ) : (
        <p className="muted">
          Set by <strong className="plain">{s.by ?? "unknown"}</strong> <Ago iso={s.at} now={now} />
          {s.reason ? (
            <>
              {" "}
              — “<span className="plain">{s.reason}</span>”
            </>
          ) : null}
        </p>
      )}
      {s.confirmedBy.length || s.awaiting.length ? (
        <p className="small">
          {s.confirmedBy.length ? `Confirmed by ${s.confirmedBy.join(" and ")}` : ""}
          {s.confirmedBy.length && s.awaiting.length ? "; " : ""}
          {s.awaiting.length ? `waiting for ${s.awaiting.join(" and ")} to confirm` : ""}.
        </p>
      ) : null}
      {s.refusedBy.length ? (
        <p className="small tone-bad">
          <span aria-hidden="true">⚠ </span>
          Refused by {s.refusedBy.join(" and ")} — see the audit log below for why.
        </p>
      ) : null}
      {s.pending ? (
        <p className="small tone-warn">
          <span aria-hidden="true">… </span>A change to “{words(s.pending.on)}” by{" "}
          {s.pending.by ?? "someone"} (<Ago iso={s.pending.at} now={now} />) is waiting for the
          services to confirm it.
        </p>
      ) : null}
    </>
  );
}

// The card is titled "Kill switch"; the shell's banner already says "Kill switch is ON".
const killWords = (on: boolean) =>
  on ? "ON — nothing is being sent" : "Off — outreach is sending normally";
const approvalWords = (on: boolean) =>
  on
    ? "Approval mode is ON — every decision waits for a person"
    : "Approval mode is off — decisions are sent without review";

function KillSwitch({ k }: { k: SwitchState }) {
  const cmd = useCommand();
  const gate = useRoleGate("operator");
  // Only while the request is in flight: a confirmation that never comes must not lock
  // the control (the state shown is re-read from the gateway either way).
  const busy = cmd.state.phase === "sending";
  const next = !k.on;
  return (
    <div className="switch-panel">
      <p className={`switch-state ${k.on ? "switch-on-bad" : "switch-off"}`}>
        <span aria-hidden="true">{k.on ? "■ " : "▶ "}</span>
        {killWords(k.on)}
      </p>
      <Setter s={k} words={killWords} />
      <ConfirmButton
        label={k.on ? "Release the kill switch" : "Engage the kill switch"}
        title={k.on ? "Release the kill switch?" : "Engage the kill switch?"}
        confirmLabel={k.on ? "Release — resume sending" : "Engage — stop all sending"}
        tone={k.on ? "primary" : "danger"}
        className="btn-big"
        reasonLabel="Reason (optional, shown in the audit log)"
        disabled={!gate.allowed || busy}
        disabledTitle={gate.why ?? "Sending…"}
        onConfirm={(reason) =>
          void cmd.send("/api/commands/kill-switch", {
            engaged: next,
            ...(reason ? { reason } : {}),
          })
        }
      >
        {k.on ? (
          <p>
            The engine makes decisions again and dispatch sends again: deferred and queued messages
            go out as their time comes.
          </p>
        ) : (
          <p>
            The engine stops making new decisions and dispatch stops every send, on every channel,
            until someone releases it. Nothing is lost: leads stay queued.
          </p>
        )}
      </ConfirmButton>
      <CommandNote state={cmd.state} />
    </div>
  );
}

function ApprovalMode({ mode, pending }: { mode: SwitchState; pending: number }) {
  const cmd = useCommand();
  const gate = useRoleGate("operator");
  // Only while the request is in flight: a confirmation that never comes must not lock
  // the control (the state shown is re-read from the gateway either way).
  const busy = cmd.state.phase === "sending";
  return (
    <div className="switch-panel">
      <p className={`switch-state ${mode.on ? "switch-on" : "switch-off"}`}>
        <span aria-hidden="true">{mode.on ? "‖ " : "▶ "}</span>
        {approvalWords(mode.on)}
      </p>
      <Setter s={mode} words={approvalWords} />
      <p>
        <a href="#approvals">
          {pending === 0
            ? "No decision is waiting for approval"
            : `${count(pending)} decision${pending === 1 ? "" : "s"} waiting for approval`}
        </a>
      </p>
      {mode.on ? (
        <ConfirmButton
          label="Turn approval mode off"
          title="Turn approval mode off?"
          confirmLabel="Turn off"
          tone="primary"
          disabled={!gate.allowed || busy}
          disabledTitle={gate.why ?? "Sending…"}
          onConfirm={() => void cmd.send("/api/commands/approval-mode", { enabled: false })}
        >
          <p>
            New decisions are sent without review (the guardrails and the kill switch still apply).
            {pending > 0
              ? ` ${count(pending)} held decision${pending === 1 ? "" : "s"} still wait${pending === 1 ? "s" : ""} for your answer in the queue.`
              : ""}
          </p>
        </ConfirmButton>
      ) : (
        // The safer direction (nothing new goes out unreviewed) needs no confirmation.
        <button
          type="button"
          className="btn btn-primary"
          disabled={!gate.allowed || busy}
          title={gate.why}
          onClick={() => void cmd.send("/api/commands/approval-mode", { enabled: true })}
        >
          Turn approval mode on
        </button>
      )}
      <CommandNote state={cmd.state} />
    </div>
  );
}
