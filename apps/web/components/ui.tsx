/** Small building blocks every page uses: states, badges, cards, the command note. */
import type { ReactNode } from "react";
import type { ApiError } from "../lib/api.ts";
import { type CommandState, describeCommand } from "../lib/command.ts";
import { tierLabel } from "../lib/format.ts";

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children ? <div className="page-header-extra">{children}</div> : null}
    </header>
  );
}

export function Card({
  title,
  children,
  actions,
  id,
}: {
  title?: string;
  children: ReactNode;
  actions?: ReactNode;
  id?: string;
}) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section className="card" aria-labelledby={headingId} id={id}>
      {title ? (
        <div className="card-head">
          <h2 id={headingId}>{title}</h2>
          {actions}
        </div>
      ) : null}
      {children}
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorNote({ error, retry }: { error: ApiError | Error; retry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <p>
        <strong>Could not load this.</strong> {error.message}
      </p>
      {retry ? (
        <button type="button" className="btn" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p>
        <strong>{title}</strong>
      </p>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

/** A tier in words and a shape, so it never rests on colour alone. */
export function TierBadge({ tier }: { tier: string | null | undefined }) {
  const mark = tier === "hot" ? "▲" : tier === "warm" ? "◆" : tier === "cold" ? "▼" : "○";
  return (
    <span className={`badge tier-${tier ?? "none"}`}>
      <span aria-hidden="true">{mark} </span>
      {tierLabel(tier)}
    </span>
  );
}

export function StatusBadge({ status, tone }: { status: string; tone?: "ok" | "warn" | "bad" }) {
  return (
    <span className={`badge status ${tone ? `tone-${tone}` : ""}`}>
      {status.replaceAll("_", " ")}
    </span>
  );
}

export function CommandNote({ state }: { state: CommandState }) {
  if (state.phase === "idle") return null;
  const tone =
    state.phase === "applied"
      ? "ok"
      : state.phase === "refused" || state.phase === "error"
        ? "bad"
        : "";
  return (
    <p className={`command-note ${tone ? `tone-${tone}` : ""}`} role="status" aria-live="polite">
      {describeCommand(state)}
      {state.phase === "error" && state.issues.length > 0 ? (
        <span> ({state.issues.map((i) => `${i.field}: ${i.message}`).join("; ")})</span>
      ) : null}
    </p>
  );
}
