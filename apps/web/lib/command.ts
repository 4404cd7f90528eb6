"use client";
/**
 * `useCommand()`: sends an operator command and follows it until a service confirms it.
 * The gateway answers 202 {commandId} once the signed command is recorded and queued; the
 * service that acts on it publishes a result (`operator.command_results.v1`), which the
 * stream brings here: the button then says "applied" or "refused — why".
 */
import { useCallback, useRef, useState } from "react";
import { ApiError, apiSend } from "./api.ts";
import { useStreamRows } from "./stream.tsx";
import { TOPICS } from "./topics.ts";

export type CommandState =
  | { phase: "idle" }
  | { phase: "sending" }
  | { phase: "published"; commandId: string }
  | { phase: "applied"; commandId: string; detail: string }
  | { phase: "refused"; commandId: string; detail: string }
  | { phase: "error"; message: string; issues: { field: string; message: string }[] };

export function useCommand() {
  const [state, setState] = useState<CommandState>({ phase: "idle" });
  const pending = useRef<string | undefined>(undefined);
  // Results seen before the 202 came back: on a fast pipeline (one process) the service's
  // answer can reach this tab through the stream before the HTTP answer does.
  const early = useRef(new Map<string, { result?: string; detail?: string }>());

  const settle = useCallback((commandId: string, d: { result?: string; detail?: string }) => {
    const detail = String(d.detail ?? "");
    setState(
      d.result === "refused"
        ? { phase: "refused", commandId, detail }
        : { phase: "applied", commandId, detail },
    );
  }, []);

  useStreamRows([TOPICS.operatorCommandResults], (row) => {
    const d = row.data as { commandId?: string; result?: string; detail?: string };
    if (!d.commandId) return;
    if (pending.current && d.commandId === pending.current) {
      settle(pending.current, d);
      return;
    }
    if (!early.current.has(d.commandId)) early.current.set(d.commandId, d);
    if (early.current.size > 200) {
      const oldest = early.current.keys().next().value;
      if (oldest !== undefined) early.current.delete(oldest);
    }
  });

  const send = useCallback(
    async (path: string, body: unknown) => {
      setState({ phase: "sending" });
      try {
        const r = await apiSend<{ commandId: string }>(path, body);
        pending.current = r.commandId;
        const seen = early.current.get(r.commandId);
        if (seen) settle(r.commandId, seen);
        else
          setState((s) =>
            s.phase === "sending" ? { phase: "published", commandId: r.commandId } : s,
          );
        return r;
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(0, "error", String(e));
        setState({ phase: "error", message: err.message, issues: err.issues });
        return undefined;
      }
    },
    [settle],
  );

  return { state, send, reset: () => setState({ phase: "idle" }) };
}

export function describeCommand(s: CommandState): string {
  switch (s.phase) {
    case "idle":
      return "";
    case "sending":
      return "Sending…";
    case "published":
      return "Sent — waiting for the service to confirm…";
    case "applied":
      return `Applied${s.detail ? `: ${s.detail}` : ""}`;
    case "refused":
      return `Refused${s.detail ? `: ${s.detail}` : ""}`;
    case "error":
      return `Not sent: ${s.message}`;
  }
}
