"use client";
/**
 * `usePoll(reload, ms)`: re-reads a view every `ms` while the tab is visible — for what
 * the gateway keeps but does not stream (the services' heartbeats), beside `useApi`'s
 * live refetch on stream rows.
 */
import { useEffect } from "react";

export function usePoll(reload: () => void, ms: number): void {
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState === "visible") reload();
    }, ms);
    return () => clearInterval(t);
  }, [reload, ms]);
}
