"use client";
/**
 * Demo mode only: play the lead's side by hand — a reply, a meeting, a conversion, an
 * unsubscribe — posted by the gateway as the signed outcome webhook a provider would send,
 * so the journey, the experiment view and Sentry show the consequence. Hidden unless the
 * gateway says it is a demo (`GET /api/demo`).
 */
import { useState } from "react";
import { ApiError, apiSend } from "../../../../lib/api.ts";
import { useSession } from "../../../../lib/session.tsx";
import { useApi } from "../../../../lib/use-api.ts";

const LABELS: Record<string, string> = {
  replied: "Simulate a reply",
  meeting_booked: "Simulate a meeting",
  converted: "Simulate a conversion",
  unsubscribed: "Simulate an unsubscribe",
};

export function DemoOutcomes({ leadId }: { leadId: string }) {
  const demo = useApi<{ outcomes: string[] }>("/api/demo");
  const { can } = useSession();
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const outcomes = demo.data?.outcomes ?? [];
  if (outcomes.length === 0) return null;
  const allowed = can("operator");

  const simulate = async (outcome: string) => {
    setBusy(true);
    setNote(null);
    try {
      await apiSend("/api/demo/outcomes", { leadId, outcome });
      setNote({
        ok: true,
        text: `${LABELS[outcome]?.replace("Simulate", "Posted") ?? outcome}: watch the journey below.`,
      });
    } catch (error) {
      setNote({
        ok: false,
        text: error instanceof ApiError ? error.message : (error as Error).message,
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="demo-outcomes">
      <p className="small muted">
        Demo: play this lead's side. Each button posts the signed webhook a provider would.
      </p>
      <div className="action-row">
        {outcomes.map((o) => (
          <button
            key={o}
            type="button"
            disabled={!allowed || busy}
            onClick={() => void simulate(o)}
          >
            {LABELS[o] ?? o}
          </button>
        ))}
      </div>
      {note ? (
        <p role="status" className={note.ok ? "small" : "small error"}>
          {note.text}
        </p>
      ) : null}
    </div>
  );
}
