"use client";
/**
 * The dead-letter queues: how many messages wait in each, and the latest parked ones with
 * where and why they failed. An operator sends them back to their topic (Redrive — one
 * message, or everything waiting in one DLQ — confirmed first). The gateway redrives
 * while the request waits and answers with what it did, which is shown in place; a
 * message that fails again is parked again with its new reason.
 */
import { useState } from "react";
import { ApiView } from "../../components/api-view.tsx";
import { ConfirmButton } from "../../components/confirm-button.tsx";
import { usePoll } from "../../components/poll.ts";
import { useRoleGate } from "../../components/role.tsx";
import { Ago } from "../../components/time.tsx";
import { Card, CommandNote, Empty } from "../../components/ui.tsx";
import { useNow } from "../../components/use-now.ts";
import { ApiError, apiSend } from "../../lib/api.ts";
import type { CommandState } from "../../lib/command.ts";
import { count, when } from "../../lib/format.ts";
import { TOPICS } from "../../lib/topics.ts";
import { useApi } from "../../lib/use-api.ts";
import { type Dlq, type DlqDepth, type DlqMessage, dlq as readDlq } from "./shapes.ts";

const LIVE = [TOPICS.serviceHealth];
/** Parked messages reach the gateway on its own DLQ consumer, not the stream: re-read. */
const DLQ_POLL_MS = 5_000;
const NO_TOOL =
  "This gateway cannot redrive: it has no DLQ tool for its bus (KAFKA_BROKERS unset?).";

export function DlqTable() {
  const state = useApi<unknown>("/api/dlq", { live: LIVE, throttleMs: 2_000 });
  usePoll(state.reload, DLQ_POLL_MS);
  const now = useNow(5_000);
  return (
    <Card id="dlq" title="Dead-letter queues">
      <ApiView state={state} what="the dead-letter queues" route="GET /api/dlq">
        {(raw) => <DlqBody d={readDlq(raw)} now={now} reload={state.reload} />}
      </ApiView>
    </Card>
  );
}

function DlqBody({ d, now, reload }: { d: Dlq; now: number; reload(): void }) {
  const waiting = d.depths.filter((t) => (t.waiting ?? 0) > 0);
  const uncounted = d.depths.filter((t) => t.waiting === null);
  const empty = d.depths.length - waiting.length - uncounted.length;
  const total = waiting.reduce((n, t) => n + (t.waiting ?? 0), 0);
  return (
    <>
      {!d.canRedrive ? (
        <p className="note-readonly" role="note">
          {NO_TOOL}
        </p>
      ) : null}
      <h3>Waiting per DLQ</h3>
      {d.depths.length === 0 ? (
        <p className="muted">The gateway did not report any DLQ.</p>
      ) : uncounted.length === d.depths.length ? (
        <p className="muted">
          This gateway cannot count what waits in the DLQs on its bus; the parked messages it has
          seen are listed below.
        </p>
      ) : waiting.length === 0 ? (
        <p>
          <span aria-hidden="true">✓ </span>Every DLQ is empty ({empty} checked
          {uncounted.length ? `, ${uncounted.length} could not be counted` : ""}).
        </p>
      ) : (
        <>
          <p>
            <span aria-hidden="true">⚠ </span>
            {count(total)} message{total === 1 ? "" : "s"} waiting in {waiting.length} DLQ
            {waiting.length === 1 ? "" : "s"}; {empty} empty
            {uncounted.length ? `, ${uncounted.length} could not be counted` : ""}.
          </p>
          <table className="compact">
            <caption className="sr-only">Messages waiting per dead-letter topic</caption>
            <thead>
              <tr>
                <th scope="col">DLQ</th>
                <th scope="col" className="num">
                  Waiting
                </th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {waiting.map((t) => (
                <DepthRow key={t.topic} t={t} canRedrive={d.canRedrive} reload={reload} />
              ))}
            </tbody>
          </table>
        </>
      )}

      <h3>Latest parked messages</h3>
      {d.messages.length === 0 ? (
        <Empty title="No parked message seen since this gateway started.">
          Nothing to redrive. A message lands here when a service cannot handle it (a bad payload, a
          failure that outlived its retries) — it is never dropped silently.
        </Empty>
      ) : (
        <>
          <p className="muted small">
            Newest first; the gateway keeps the latest {count(d.max ?? d.messages.length)} in memory
            — where and why each failed, never the message itself.
          </p>
          <div className="table-scroll">
            <table>
              <caption className="sr-only">Messages parked in dead-letter queues</caption>
              <thead>
                <tr>
                  <th scope="col">Parked</th>
                  <th scope="col">Topic</th>
                  <th scope="col">Message</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {d.messages.map((m) => (
                  <MessageRow
                    key={`${m.topic}/${m.partition}/${m.offset}/${m.consumerGroup}/${m.parkedAt}`}
                    m={m}
                    now={now}
                    canRedrive={d.canRedrive}
                    reload={reload}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}

function DepthRow({ t, canRedrive, reload }: { t: DlqDepth; canRedrive: boolean; reload(): void }) {
  const redrive = useRedrive(reload);
  const gate = useRoleGate("operator");
  return (
    <tr>
      <td>{t.dlqTopic}</td>
      <td className="num">{count(t.waiting)}</td>
      <td>
        <ConfirmButton
          label={`Redrive all${t.waiting ? ` ${count(t.waiting)}` : ""}`}
          title={`Redrive everything waiting in ${t.dlqTopic}?`}
          confirmLabel="Redrive all"
          tone="danger"
          reasonLabel="Reason (optional, kept in the audit log)"
          disabled={!gate.allowed || !canRedrive || redrive.state.phase === "sending"}
          disabledTitle={gate.why ?? (canRedrive ? "Sending…" : NO_TOOL)}
          onConfirm={(note) => redrive.send({ topic: t.topic, all: true }, note)}
        >
          <p>
            Every message waiting in <code>{t.dlqTopic}</code>
            {t.waiting ? ` (${count(t.waiting)})` : ""} is published again on <code>{t.topic}</code>
            . The consumer that gave up handles each as new; the others skip what they already
            processed. Fix the cause first, or they will be parked again.
          </p>
        </ConfirmButton>
        <CommandNote state={redrive.state} />
      </td>
    </tr>
  );
}

function MessageRow(p: { m: DlqMessage; now: number; canRedrive: boolean; reload(): void }) {
  const { m } = p;
  const redrive = useRedrive(p.reload);
  const gate = useRoleGate("operator");
  const selector: Record<string, unknown> | undefined = m.eventId
    ? { eventId: m.eventId }
    : m.offset !== undefined
      ? {
          originalOffset: m.offset,
          ...(m.partition !== undefined ? { originalPartition: m.partition } : {}),
        }
      : undefined;
  const label = m.eventId ?? `offset ${m.offset ?? "?"}`;
  return (
    <tr className={m.redriven ? "dim" : undefined}>
      <td>
        <Ago iso={m.parkedAt} now={p.now} />
        {m.parkedAt ? <div className="muted small">{when(m.parkedAt)}</div> : null}
      </td>
      <td>
        {m.topic}
        {m.consumerGroup ? <div className="muted small">given up by {m.consumerGroup}</div> : null}
      </td>
      <td>
        {m.eventType ? <div>{m.eventType}</div> : null}
        {m.eventId ? <code className="small">{m.eventId}</code> : null}
        <div className="muted small">
          partition {m.partition ?? "?"}, offset {m.offset ?? "?"}
          {m.attempts !== undefined ? ` · ${m.attempts} attempt${m.attempts === 1 ? "" : "s"}` : ""}
        </div>
      </td>
      <td className="reason">
        {m.failureKind ? <strong>{m.failureKind.replaceAll("-", " ")}: </strong> : null}
        {m.reason}
      </td>
      <td>
        {m.redriven ? (
          <span className="small">
            <span aria-hidden="true">↻ </span>redriven by {m.redriven.by ?? "someone"}{" "}
            <Ago iso={m.redriven.at} now={p.now} />
          </span>
        ) : (
          <ConfirmButton
            label="Redrive"
            title="Redrive this message?"
            confirmLabel="Redrive"
            tone="primary"
            reasonLabel="Reason (optional, kept in the audit log)"
            disabled={
              !gate.allowed || !p.canRedrive || !selector || redrive.state.phase === "sending"
            }
            disabledTitle={
              gate.why ??
              (!p.canRedrive
                ? NO_TOOL
                : !selector
                  ? "This message has no id or offset to name it by"
                  : "Sending…")
            }
            onConfirm={(note) => selector && redrive.send({ topic: m.topic, ...selector }, note)}
          >
            <p>
              {m.eventType ?? "The message"} <code>{label}</code> is published again on{" "}
              <code>{m.topic}</code>. The consumer that gave up handles it as new; the others skip
              it if they already processed it.
            </p>
            <p className="muted small">Parked because: {m.reason}</p>
          </ConfirmButton>
        )}
        <CommandNote state={redrive.state} />
      </td>
    </tr>
  );
}

type RedriveAnswer = { commandId: string; topic: string; redriven: number; reparked: number };

/**
 * `POST /api/commands/dlq-redrive` answers once the redrive is done (not through the
 * stream like the other commands), so its result is shown from the answer itself.
 */
function useRedrive(reload: () => void) {
  const [state, setState] = useState<CommandState>({ phase: "idle" });
  const send = (target: Record<string, unknown>, note: string) => {
    setState({ phase: "sending" });
    apiSend<RedriveAnswer>("/api/commands/dlq-redrive", { ...target, ...(note ? { note } : {}) })
      .then((r) => {
        setState({
          phase: "applied",
          commandId: r.commandId,
          detail: `${count(r.redriven)} message${r.redriven === 1 ? "" : "s"} sent back to ${r.topic}${r.reparked ? `, ${count(r.reparked)} parked again` : ""}`,
        });
        reload();
      })
      .catch((e: unknown) => {
        const err = e instanceof ApiError ? e : new ApiError(0, "error", String(e));
        setState({ phase: "error", message: err.message, issues: err.issues });
        reload();
      });
  };
  return { state, send };
}
