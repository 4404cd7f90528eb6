"use client";
/**
 * A segment's results in the shape operators know from experimentation tools: per
 * variant its sends, successes, estimated rate with the 95% credible interval on an axis
 * shared by every row, P(best), traffic share now, and status with its reason — and the
 * operator's pause / resume / revive, each confirmed by the experiments service.
 */
import { type FormEvent, useId, useState } from "react";
import { useRoleGate } from "../../components/role.tsx";
import { CommandNote } from "../../components/ui.tsx";
import { type CommandState, useCommand } from "../../lib/command.ts";
import { count, pct } from "../../lib/format.ts";
import { useSession } from "../../lib/session.tsx";
import { IntervalBar } from "./interval-bar.tsx";
import {
  type Arm,
  axisMax,
  axisTicks,
  leaderOf,
  orderArms,
  rewardLabel,
  type ShareWindow,
  tickDigits,
} from "./model.ts";

export function ResultsTable(p: {
  segment: string;
  arms: readonly Arm[];
  totalSends: number;
  reward: string | undefined;
  /** Share of the most recent sends (absent: too little history to say). */
  recent: (ShareWindow & { since: string }) | undefined;
}) {
  const { can } = useSession();
  const rows = orderArms(p.arms);
  const max = axisMax(rows);
  const ticks = axisTicks(max);
  const digits = tickDigits(ticks);
  const leader = leaderOf(rows);
  const words = rewardLabel(p.reward);
  return (
    <div className="xp-table-wrap">
      {!can("operator") ? (
        <p className="muted small">
          You are signed in as a viewer: pausing, resuming and reviving variants is for operators
          and admins.
        </p>
      ) : null}
      <table className="xp-table">
        <caption className="xp-caption">
          {count(rows.length)} variants in <strong>{p.segment}</strong>, {count(p.totalSends)} sends
          in all. {p.reward ? `Success means a ${words.singular}. ` : ""}Rates are posterior means
          with 95% credible intervals.
        </caption>
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col" className="num">
              Sends
            </th>
            <th scope="col" className="num">
              {capitalise(words.plural)}
            </th>
            <th scope="col" className="xp-rate-col">
              Estimated rate (95% interval)
              <span className="xp-axis" aria-hidden="true">
                {ticks.map((t, i) => (
                  <span
                    key={t}
                    className="xp-tick"
                    style={{
                      left: `${(t / max) * 100}%`,
                      transform:
                        i === 0
                          ? "none"
                          : i === ticks.length - 1
                            ? "translateX(-100%)"
                            : "translateX(-50%)",
                    }}
                  >
                    {pct(t, digits)}
                  </span>
                ))}
              </span>
            </th>
            <th scope="col">P(best)</th>
            <th scope="col" className="num">
              Traffic share now
            </th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <VariantRow
              key={a.variantId}
              arm={a}
              max={max}
              leader={a.variantId === leader}
              words={words}
              recent={p.recent}
              totalSends={p.totalSends}
            />
          ))}
        </tbody>
      </table>
      <p className="muted small">
        Traffic share now:{" "}
        {p.recent
          ? `each variant's share of the last ${count(p.recent.sends)} sends in this segment.`
          : `not enough recent history — shown as the share of all ${count(p.totalSends)} sends.`}{" "}
        P(best) is the probability that a variant has the highest rate, among the active ones.
      </p>
    </div>
  );
}

function VariantRow(p: {
  arm: Arm;
  max: number;
  leader: boolean;
  words: { plural: string; singular: string };
  recent: ShareWindow | undefined;
  totalSends: number;
}) {
  const a = p.arm;
  const active = a.status === "active";
  const recentCount = p.recent?.counts[a.variantId] ?? 0;
  return (
    <tr className={active ? undefined : "dim xp-inactive"}>
      <th scope="row" className="xp-variant">
        <code>{a.variantId}</code>
        {p.leader ? <span className="badge tone-ok xp-leader">Leading</span> : null}
      </th>
      <td className="num">{count(a.exposures)}</td>
      <td className="num">{count(a.successes)}</td>
      <td>
        <IntervalBar mean={a.mean} low={a.low} high={a.high} max={p.max} />
        <span className="xp-rate-text">
          {a.mean === null ? (
            "no estimate yet"
          ) : (
            <>
              <strong>{pct(a.mean)}</strong> ({pct(a.low)}–{pct(a.high)})
            </>
          )}
        </span>{" "}
        <span className="muted small">
          {a.successes} {a.successes === 1 ? p.words.singular : p.words.plural} of{" "}
          {count(a.exposures)} sends
        </span>
      </td>
      <td>
        <div className="xp-pbest">
          <span className="xp-pbest-num">{a.pBest === null ? "—" : pct(a.pBest, 0)}</span>
          <span className="bar-track" aria-hidden="true">
            <span
              className="bar-fill xp-bar-fill"
              style={{ width: `${Math.max(0, Math.min(1, a.pBest ?? 0)) * 100}%` }}
            />
          </span>
        </div>
        {!active ? <span className="muted small">not competing while {a.status}</span> : null}
      </td>
      <td className="num">
        {p.recent ? (
          <>
            <strong>{pct(p.recent.share[a.variantId] ?? 0, 0)}</strong>
            <span className="muted small xp-basis">
              {count(recentCount)} of last {count(p.recent.sends)}
            </span>
          </>
        ) : (
          <>
            <strong>{pct(a.share, 0)}</strong>
            <span className="muted small xp-basis">
              {count(a.exposures)} of all {count(p.totalSends)}
            </span>
          </>
        )}
      </td>
      <td>
        <StatusCell arm={a} />
      </td>
    </tr>
  );
}

const MARK: Record<string, string> = {
  active: "●",
  paused: "‖",
  suppressed: "⊘",
  retired: "✕",
};
const TONE: Record<string, string> = {
  active: "tone-ok",
  paused: "tone-warn",
  suppressed: "tone-bad",
  retired: "",
};

function StatusCell({ arm }: { arm: Arm }) {
  return (
    <div className="xp-status">
      <span className={`badge ${TONE[arm.status] ?? ""}`}>
        <span aria-hidden="true">{MARK[arm.status] ?? "○"} </span>
        {capitalise(arm.status)}
      </span>
      {arm.statusReason ? <span className="xp-reason">{arm.statusReason}</span> : null}
      <VariantAction arm={arm} />
    </div>
  );
}

type Action = "pause" | "resume" | "revive";

const ACTION_OF: Record<string, Action | undefined> = {
  active: "pause",
  paused: "resume",
  suppressed: "revive",
};

/**
 * Pause asks why (it lands in the audit log and the experiment's history); resume and
 * revive take an optional note. The command is sent for this segment only.
 */
function VariantAction({ arm }: { arm: Arm }) {
  const gate = useRoleGate("operator");
  const cmd = useCommand();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const inputId = useId();
  const action = ACTION_OF[arm.status];
  // The engine confirms the command (operator.command_results.v1): useCommand follows it.
  const state: CommandState = cmd.state;
  if (!action)
    return arm.status === "retired" ? (
      <span className="muted small">Retired from the playbook (Controls → Playbook).</span>
    ) : null;
  const allowed = gate.allowed;
  const busy = cmd.state.phase === "sending" || cmd.state.phase === "published";
  const label = action === "pause" ? "Pause" : action === "resume" ? "Resume" : "Revive";
  const needsReason = action === "pause";
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const why = reason.trim();
    if (needsReason && !why) return;
    void cmd
      .send("/api/commands/variant", {
        action,
        variantId: arm.variantId,
        segment: arm.segment,
        ...(why ? { reason: why } : {}),
      })
      .then((r) => {
        if (r) {
          setOpen(false);
          setReason("");
        }
      });
  };
  return (
    <div className="xp-action">
      {open ? (
        <form className="xp-action-form" onSubmit={submit}>
          <label htmlFor={inputId} className="small">
            {needsReason
              ? `Why pause ${arm.variantId} in ${arm.segment}? (required)`
              : `Note for the audit log (optional)`}
          </label>
          <input
            id={inputId}
            value={reason}
            maxLength={1000}
            required={needsReason}
            // biome-ignore lint/a11y/noAutofocus: the field the operator just asked for
            autoFocus
            onChange={(e) => setReason(e.target.value)}
            placeholder={needsReason ? "e.g. copy mentions an expired offer" : ""}
          />
          <span className="xp-action-buttons">
            <button
              type="submit"
              className={`btn ${needsReason ? "btn-danger" : "btn-primary"}`}
              disabled={busy || (needsReason && !reason.trim())}
            >
              {label} {arm.variantId}
            </button>
            <button type="button" className="btn btn-quiet" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </span>
        </form>
      ) : (
        <button
          type="button"
          className="btn"
          disabled={!allowed || busy}
          title={gate.why}
          aria-label={`${label} ${arm.variantId} in ${arm.segment}`}
          onClick={() => {
            cmd.reset();
            setOpen(true);
          }}
        >
          {label}…
        </button>
      )}
      <CommandNote state={state} />
    </div>
  );
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
