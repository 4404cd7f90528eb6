/** Journey steps about consent and operators, and anything the dashboard does not know yet. */
import type { StreamRow } from "../../../../lib/topics.ts";
import { type CommandResult, type OperatorCommand, type OptedOut, text } from "./journey-data.ts";
import { JourneyItem } from "./journey-item.tsx";

const OPT_OUT: Record<string, string> = {
  reply_text: "asked in a reply",
  unsubscribe_link: "one-click unsubscribe",
  bounce: "hard bounce",
  operator: "an operator's do-not-contact",
};

export function OptOutStep({ row, now }: { row: StreamRow; now: number }) {
  const d = row.data as OptedOut;
  return (
    <JourneyItem
      kind="optout"
      label="Opt-out"
      title={`Opted out (${OPT_OUT[d.source ?? ""] ?? text(d.source)}) — will not be contacted`}
      at={row.at}
      now={now}
    >
      <p className="small">
        Why: {text(d.reason, 500)} · {d.channel ? `channel ${d.channel}` : "every channel"}
      </p>
    </JourneyItem>
  );
}

const LEAD_ACTIONS: Record<string, string> = {
  suppress: "suppressed this lead",
  unsuppress: "lifted the suppression",
  prioritise: "prioritised this lead",
  do_not_contact: "marked this lead do-not-contact",
};

export function OperatorStep({ row, now }: { row: StreamRow; now: number }) {
  if (row.topic === "operator.command_results.v1" || row.type.includes("command_result")) {
    const d = row.data as CommandResult;
    return (
      <JourneyItem
        kind="operator"
        label="Confirmed"
        title={`Command ${text(d.result ?? "answered")}`}
        at={row.at}
        now={now}
      >
        {d.detail ? <p className="small">{text(d.detail, 500)}</p> : null}
      </JourneyItem>
    );
  }
  const d = row.data as OperatorCommand;
  const what =
    row.type === "operator.lead_command.v1"
      ? (LEAD_ACTIONS[d.action ?? ""] ?? `asked '${text(d.action)}'`)
      : `issued ${row.type}`;
  return (
    <JourneyItem
      kind="operator"
      label="Operator"
      title={`${text(d.operator ?? "An operator")} ${what}`}
      at={row.at}
      now={now}
    >
      {d.reason ? <p className="small">Reason: {text(d.reason, 1000)}</p> : null}
    </JourneyItem>
  );
}

export function OtherStep({ row, now }: { row: StreamRow; now: number }) {
  const keys = Object.keys(row.data).slice(0, 12);
  return (
    <JourneyItem kind="other" label="Event" title={row.type} at={row.at} now={now}>
      {keys.length ? <p className="small muted">Fields: {keys.join(", ")}</p> : null}
    </JourneyItem>
  );
}
