"use client";
import type { ReactNode } from "react";
import { Shell } from "../components/shell.tsx";
import { SessionProvider } from "../lib/session.tsx";
import { StreamProvider } from "../lib/stream.tsx";

export function Providers(p: {
  children: ReactNode;
  environment: string;
  clockScale: number | null;
}) {
  return (
    <SessionProvider>
      <StreamProvider>
        <Shell environment={p.environment} clockScale={p.clockScale}>
          {p.children}
        </Shell>
      </StreamProvider>
    </SessionProvider>
  );
}
