"use client";
/** `<Ago>`: "42 s ago", with the exact time as its tooltip and machine-readable value. */
import { ago, when } from "../lib/format.ts";

export function Ago({ iso, now }: { iso: string | null | undefined; now?: number }) {
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} title={when(iso)}>
      {ago(iso, now)}
    </time>
  );
}
