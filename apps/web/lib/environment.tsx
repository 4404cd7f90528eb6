"use client";
/**
 * Where the dashboard runs (demo / production) and how fast the demo clock goes, for
 * views that choose defaults by it (the overview's funnel is by minute in the demo, by
 * day in production). Set once by the shell from what the server read at request time.
 */
import { createContext, type ReactNode, useContext } from "react";

export type Environment = { environment: string; clockScale: number | null };

const EnvironmentContext = createContext<Environment>({
  environment: "production",
  clockScale: null,
});

export function EnvironmentProvider({ children, ...value }: Environment & { children: ReactNode }) {
  return <EnvironmentContext.Provider value={value}>{children}</EnvironmentContext.Provider>;
}

export function useEnvironment(): Environment {
  return useContext(EnvironmentContext);
}

/** True in the demo, or whenever the clock runs faster than real time. */
export function isDemo(e: Environment): boolean {
  return e.environment === "demo" || (e.clockScale !== null && e.clockScale > 1);
}
