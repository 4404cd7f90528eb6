"use client";
/**
 * The four states of a card fed by one gateway route, said the same way everywhere:
 * loading; a route this gateway does not serve yet (404: a note, never a crash); an error
 * with what to try (the last good data stays on screen beside it); the data.
 */
import type { ReactNode } from "react";
import type { ApiError } from "../lib/api.ts";
import type { ApiState } from "../lib/use-api.ts";
import { ErrorNote, Loading } from "./ui.tsx";

/** A 404/405 on a list route means the gateway does not have that route (yet). */
export function isMissingRoute(error: ApiError | undefined): boolean {
  return error?.status === 404 || error?.status === 405;
}

export function NotAvailable({ what, route }: { what: string; route: string }) {
  return (
    <div className="state state-empty" role="note">
      <p>
        <strong>{what} is not available on this gateway.</strong>
      </p>
      <p className="muted">
        It answers <code>{route}</code> with “not found”: the gateway running here is older than
        this dashboard. Update and restart the gateway to use this card; everything else on the page
        still works.
      </p>
    </div>
  );
}

export function ApiView<T>(p: {
  state: ApiState<T>;
  /** "the approval queue" — completes "Loading …". */
  what: string;
  /** Shown in the not-available note, e.g. "GET /api/approvals". */
  route: string;
  children(data: T): ReactNode;
}) {
  const { data, error, reload } = p.state;
  if (data === undefined) {
    if (error && isMissingRoute(error))
      return <NotAvailable what={capitalise(p.what)} route={p.route} />;
    if (error) return <ErrorNote error={error} retry={reload} />;
    return <Loading what={p.what} />;
  }
  return (
    <>
      {error ? (
        <p className="stale-note" role="alert">
          Could not refresh {p.what} ({error.message}); showing what was loaded before.{" "}
          <button type="button" className="btn btn-quiet" onClick={reload}>
            Try again
          </button>
        </p>
      ) : null}
      {p.children(data)}
    </>
  );
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
