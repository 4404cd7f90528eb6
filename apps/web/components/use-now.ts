"use client";
/** The current time, refreshed every `everyMs`, so "2 min ago" keeps telling the truth. */
import { useEffect, useState } from "react";

export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
