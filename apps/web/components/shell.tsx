"use client";
/**
 * The frame around every page: the top bar (product, environment, demo clock, stream
 * status, the kill switch in words, approvals waiting, who is signed in), the left
 * navigation, and the banners an operator must not miss (stream down, kill switch on).
 */
import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { useCommand } from "../lib/command.ts";
import { EnvironmentProvider } from "../lib/environment.tsx";
import { useSession } from "../lib/session.tsx";
import { useStream } from "../lib/stream.tsx";
import { TOPICS } from "../lib/topics.ts";
import { useApi } from "../lib/use-api.ts";
import { CommandNote } from "./ui.tsx";

export type Controls = {
  killSwitch: { engaged: boolean; by?: string | null; at?: string | null; reason?: string | null };
  approvalMode: { enabled: boolean; by?: string | null; at?: string | null };
  pendingApprovals: number;
};

const NAV = [
  { href: "/", label: "Overview" },
  { href: "/leads", label: "Leads" },
  { href: "/experiments", label: "Experiments" },
  { href: "/outreach", label: "Outreach" },
  { href: "/controls", label: "Controls" },
  { href: "/health", label: "Health" },
];

const CONTROL_TOPICS = [
  TOPICS.operatorCommands,
  TOPICS.operatorCommandResults,
  TOPICS.experimentUpdates,
];

export function useControls() {
  return useApi<Controls>("/api/controls", { live: CONTROL_TOPICS });
}

export function Shell({
  children,
  environment,
  clockScale,
}: {
  children: ReactNode;
  environment: string;
  clockScale: number | null;
}) {
  const pathname = usePathname();
  const { me, loading, error, signOut } = useSession();
  if (pathname === "/login") return <main className="login-main">{children}</main>;
  if (!me)
    return (
      <main className="login-main">
        {loading ? (
          <p role="status">Checking your session…</p>
        ) : error ? (
          <p role="alert">The dashboard cannot reach the gateway: {error}</p>
        ) : (
          <p role="status">Redirecting to sign in…</p>
        )}
      </main>
    );
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <TopBar
        environment={environment}
        clockScale={clockScale}
        username={me.username}
        role={me.role}
        onSignOut={signOut}
      />
      <nav className="side" aria-label="Main">
        <ul>
          {NAV.map((n) => {
            const current = n.href === "/" ? pathname === "/" : pathname.startsWith(n.href);
            return (
              <li key={n.href}>
                <Link href={n.href} aria-current={current ? "page" : undefined}>
                  {n.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Banners />
        <EnvironmentProvider environment={environment} clockScale={clockScale}>
          {children}
        </EnvironmentProvider>
      </main>
    </div>
  );
}

function TopBar(p: {
  environment: string;
  clockScale: number | null;
  username: string;
  role: string;
  onSignOut(): void;
}) {
  const { status } = useStream();
  const controls = useControls();
  const engaged = controls.data?.killSwitch.engaged;
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-name">Pipeline Whisperer</span>
        <span className={`env env-${p.environment}`}>{p.environment}</span>
        {p.clockScale && p.clockScale !== 1 ? (
          <span className="clock" title="The demo's clock runs faster than real time">
            demo clock ×{p.clockScale}
          </span>
        ) : null}
      </div>
      <div className="topbar-right">
        <span className={`stream stream-${status}`} role="status" aria-live="polite">
          <span aria-hidden="true">●</span> Stream: {status}
        </span>
        <KillSwitchToggle engaged={engaged} />
        <Link href="/controls#approvals" className="approvals-count">
          Approvals waiting: <strong>{controls.data?.pendingApprovals ?? "—"}</strong>
        </Link>
        <span className="who">
          {p.username} <span className="role">({p.role})</span>
        </span>
        <button type="button" className="btn btn-quiet" onClick={p.onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

export function KillSwitchToggle({ engaged }: { engaged: boolean | undefined }) {
  const { can } = useSession();
  const cmd = useCommand();
  const busy = cmd.state.phase === "sending" || cmd.state.phase === "published";
  const flip = () => {
    const next = !engaged;
    if (
      next &&
      !window.confirm("Engage the kill switch? Nothing will be sent until it is released.")
    )
      return;
    void cmd.send("/api/commands/kill-switch", {
      engaged: next,
      reason: next ? "engaged from the dashboard" : "released from the dashboard",
    });
  };
  return (
    <span className="kill">
      <button
        type="button"
        role="switch"
        aria-checked={engaged === true}
        className={`btn kill-switch ${engaged ? "kill-on" : "kill-off"}`}
        disabled={engaged === undefined || busy || !can("operator")}
        onClick={flip}
        title={can("operator") ? undefined : "Operators and admins can use the kill switch"}
      >
        Kill switch: {engaged === undefined ? "…" : engaged ? "ON — sending stopped" : "off"}
      </button>
      {cmd.state.phase !== "idle" && cmd.state.phase !== "applied" ? (
        <CommandNote state={cmd.state} />
      ) : null}
    </span>
  );
}

function Banners() {
  const { status } = useStream();
  const controls = useControls();
  const k = controls.data?.killSwitch;
  return (
    <div className="banners">
      {status === "offline" || status === "reconnecting" ? (
        <div className="banner banner-warn" role="alert">
          Live updates are {status === "offline" ? "disconnected" : "reconnecting"}: what you see
          may be out of date. The page will catch up by itself once the stream is back.
        </div>
      ) : null}
      {k?.engaged ? (
        <div className="banner banner-bad" role="alert">
          Kill switch is ON — no message is being sent
          {k.by ? ` (engaged by ${k.by}${k.reason ? `: ${k.reason}` : ""})` : ""}. Release it in the
          top bar or on Controls.
        </div>
      ) : null}
    </div>
  );
}
