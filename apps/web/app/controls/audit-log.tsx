"use client";
/**
 * The audit log: every command, who issued it, when, and what each service made of it
 * ("waiting for confirmation" until one answers). The newest page follows the stream;
 * "Show older" pages back with the gateway's cursor. Rows seen once are kept (merged by
 * id), so new commands arriving at the top never open a gap above the older pages.
 */
import Link from "next/link";
import { ApiView } from "../../components/api-view.tsx";
import { Pager } from "../../components/pager.tsx";
import { usePoll } from "../../components/poll.ts";
import { Ago } from "../../components/time.tsx";
import { Card, Empty, StatusBadge } from "../../components/ui.tsx";
import { useNow } from "../../components/use-now.ts";
import { usePagedList } from "../../components/use-paged-list.ts";
import { when } from "../../lib/format.ts";
import { TOPICS } from "../../lib/topics.ts";
import { type AuditItem, auditPage } from "./shapes.ts";

const PAGE = 25;
const AUDIT_POLL_MS = 15_000;
const LIVE = [TOPICS.operatorCommands, TOPICS.operatorCommandResults];
const byNewest = (a: AuditItem, b: AuditItem) => b.id - a.id;
const idOf = (i: AuditItem) => i.id;

export function AuditLog() {
  const list = usePagedList({
    path: "/api/audit",
    pageSize: PAGE,
    live: LIVE,
    parse: auditPage,
    key: idOf,
    order: byNewest,
  });
  // A DLQ redrive is audited without a stream row: re-read now and then as well.
  usePoll(list.head.reload, AUDIT_POLL_MS);
  const now = useNow(10_000);
  const items = list.items;
  return (
    <Card id="audit" title="Audit log">
      <ApiView state={list.head} what="the audit log" route="GET /api/audit">
        {() =>
          items.length === 0 ? (
            <Empty title="No command has been issued yet.">
              Every change made on this page (and the kill switch in the top bar) is listed here
              with who made it and what each service answered.
            </Empty>
          ) : (
            <>
              <div className="table-scroll">
                <table>
                  <caption className="sr-only">Operator commands, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Who</th>
                      <th scope="col">What</th>
                      <th scope="col">Result</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((item) => (
                      <tr key={item.id}>
                        <td>
                          <time dateTime={item.at} title={when(item.at)}>
                            {when(item.at)}
                          </time>
                          <div className="muted small">
                            <Ago iso={item.at} now={now} />
                          </div>
                        </td>
                        <td>
                          {item.operator}
                          {item.role ? <div className="muted small">{item.role}</div> : null}
                        </td>
                        <td>
                          <What item={item} />
                        </td>
                        <td>
                          <Results item={item} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager list={list} pageSize={PAGE} noun="commands" />
            </>
          )
        }
      </ApiView>
    </Card>
  );
}

const MARK: Record<string, string> = { applied: "✓", refused: "✗", failed: "✗" };
const TONE: Record<string, "ok" | "bad"> = { applied: "ok", refused: "bad", failed: "bad" };

function Results({ item }: { item: AuditItem }) {
  const waiting =
    item.awaiting.length > 0
      ? `waiting for ${item.awaiting.join(" and ")} to confirm`
      : item.results.length === 0
        ? "waiting for confirmation"
        : undefined;
  return (
    <ul className="plain-list">
      {item.results.map((r, i) => (
        <li key={`${r.service ?? ""}-${i}`}>
          <StatusBadge status={`${MARK[r.result] ?? "•"} ${r.result}`} tone={TONE[r.result]} />
          {r.service ? <span className="small"> by {r.service}</span> : null}
          {r.detail ? <div className="small">{r.detail}</div> : null}
        </li>
      ))}
      {waiting ? (
        <li>
          <span className="badge status">
            <span aria-hidden="true">… </span>
            {waiting}
          </span>
        </li>
      ) : null}
    </ul>
  );
}

function What({ item }: { item: AuditItem }) {
  const d = item.data;
  const s = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : undefined);
  const reason = s("reason") ?? s("note");
  let text: string;
  switch (item.commandType) {
    case "operator.kill_switch.v1":
      text = d.engaged ? "Engaged the kill switch" : "Released the kill switch";
      break;
    case "operator.approval_mode.v1":
      text = d.enabled ? "Turned approval mode on" : "Turned approval mode off";
      break;
    case "operator.approval_decision.v1":
      text = `${d.decision === "reject" ? "Rejected" : "Approved"} held decision ${s("requestId") ?? ""}`;
      break;
    case "operator.playbook_upsert.v1":
      text = `Saved playbook variant ${s("variantId") ?? ""} (${s("channel") ?? "?"}, step ${String(d.cadenceStep ?? 0)})`;
      break;
    case "operator.playbook_retire.v1":
      text = `Retired playbook variant ${s("variantId") ?? ""}`;
      break;
    case "operator.variant_command.v1":
      text = `${past(s("action"))} variant ${s("variantId") ?? ""}${s("segment") ? ` in ${s("segment")}` : " in every segment"}`;
      break;
    case "operator.lead_command.v1":
      text = `${past(s("action"))} lead`;
      break;
    case "operator.model_rollback.v1":
      text = `Rolled the scoring model back to version ${String(d.version ?? "?")}`;
      break;
    case "gateway.dlq_redrive":
      text = `Redrove ${redriveTarget(d)}`;
      break;
    default:
      text = `${item.commandType.replace(/^operator\./, "").replace(/\.v\d+$/, "")}`;
  }
  const lead = item.subject && item.subject !== "operator:global" ? item.subject : undefined;
  return (
    <>
      {text}
      {lead ? (
        <>
          {" "}
          <Link href={`/leads/${encodeURIComponent(lead)}`}>{lead}</Link>
        </>
      ) : null}
      {reason ? <div className="muted small">“{reason}”</div> : null}
    </>
  );
}

/** `{topic, selector: "all" | {eventId} | {originalOffset, originalPartition?}}` in words. */
function redriveTarget(d: Record<string, unknown>): string {
  const topic = typeof d.topic === "string" ? d.topic : "a topic";
  const sel = d.selector;
  if (sel === "all") return `everything waiting in ${topic}.dlq`;
  if (sel && typeof sel === "object") {
    const o = sel as Record<string, unknown>;
    if (typeof o.eventId === "string") return `message ${o.eventId} from ${topic}.dlq`;
    if (o.originalOffset !== undefined)
      return `the message at offset ${String(o.originalOffset)}${o.originalPartition !== undefined ? ` (partition ${String(o.originalPartition)})` : ""} of ${topic} from its DLQ`;
  }
  return `parked messages of ${topic}`;
}

const PAST: Record<string, string> = {
  pause: "Paused",
  resume: "Resumed",
  revive: "Revived",
  suppress: "Suppressed",
  unsuppress: "Lifted the suppression of",
  prioritise: "Prioritised",
  do_not_contact: "Marked do-not-contact:",
};

function past(action: string | undefined): string {
  return (action && PAST[action]) ?? `${action ?? "Changed"}:`;
}
