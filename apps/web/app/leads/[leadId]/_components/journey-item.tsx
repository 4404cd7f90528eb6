/**
 * One step of a lead's journey: a label word naming its kind (CRM, Score, Decision, Send…),
 * a title, its time, and what happened — every value rendered as text.
 */
import type { ReactNode } from "react";
import { ago, when } from "../../../../lib/format.ts";

export type Kind =
  | "crm"
  | "signal"
  | "score"
  | "decision"
  | "send"
  | "held"
  | "cancelled"
  | "failed"
  | "outcome"
  | "optout"
  | "operator"
  | "other";

export function JourneyItem({
  kind,
  label,
  title,
  at,
  now,
  children,
}: {
  kind: Kind;
  label: string;
  title: ReactNode;
  at: string;
  now: number;
  children?: ReactNode;
}) {
  return (
    <li className={`jitem jitem-${kind}`}>
      <div className="jitem-head">
        <span className={`jlabel jlabel-${kind}`}>{label}</span>
        <span className="jtitle">{title}</span>
        <time className="small muted" dateTime={at} title={ago(at, now)}>
          {when(at)}
        </time>
      </div>
      {children ? <div className="jitem-body">{children}</div> : null}
    </li>
  );
}

/** A link from event data: http(s) only, otherwise the address as text. */
export function ExternalLink({
  href,
  children,
}: {
  href: string | undefined;
  children: ReactNode;
}) {
  if (!href) return <>{children}</>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  );
}
