"use client";
/**
 * `useApi(path, { live })`: what a view shows, fetched from the gateway and fetched again
 * (at most every `throttleMs`) whenever a row of one of the `live` topics arrives on the
 * stream — so the page follows the pipeline without a reload. The previous data stays on
 * screen while a refetch runs; an error keeps the last good data beside the message.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, apiGet } from "./api.ts";
import { useStreamRows } from "./stream.tsx";
import type { StreamRow } from "./topics.ts";

export type ApiState<T> = {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): void;
};

export function useApi<T>(
  path: string | null,
  o: { live?: readonly string[]; filter?: (row: StreamRow) => boolean; throttleMs?: number } = {},
): ApiState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const generation = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastFetch = useRef(0);
  const throttleMs = o.throttleMs ?? 400;

  const load = useCallback(() => {
    if (path === null) return;
    const g = ++generation.current;
    lastFetch.current = Date.now();
    apiGet<T>(path)
      .then((d) => {
        if (g !== generation.current) return;
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (g !== generation.current) return;
        setError(e instanceof ApiError ? e : new ApiError(0, "error", String(e)));
      })
      .finally(() => g === generation.current && setLoading(false));
  }, [path]);

  useEffect(() => {
    setLoading(path !== null);
    load();
    return () => clearTimeout(timer.current);
  }, [load, path]);

  const filter = o.filter;
  useStreamRows(o.live ?? [], (row) => {
    if (!o.live?.length || (filter && !filter(row))) return;
    if (timer.current) return;
    const wait = Math.max(0, throttleMs - (Date.now() - lastFetch.current));
    timer.current = setTimeout(() => {
      timer.current = undefined;
      load();
    }, wait);
  });

  return { data, error, loading, reload: load };
}
