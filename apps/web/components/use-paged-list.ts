"use client";
/**
 * A list the gateway pages with `?limit=&cursor=` → `{ items, nextCursor }`, newest first:
 * the first page follows the stream (`useApi` live), "older" pages are fetched on demand
 * with the cursor. Every row seen is kept, merged by key (a refetch updates it), so new
 * rows arriving at the top never open a gap above the pages already loaded.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, apiGet } from "../lib/api.ts";
import { type ApiState, useApi } from "../lib/use-api.ts";

export type Page<T> = { items: T[]; nextCursor: string | null };

export type PagedList<T> = {
  /** The live first page, as fetched (for its loading/error states). */
  head: ApiState<unknown>;
  /** Every row loaded so far, in `order`. */
  items: T[];
  /** Where the next older page starts; null: nothing older; undefined: not known yet. */
  cursor: string | null | undefined;
  older: { loading: boolean; error?: string };
  loadOlder(): void;
};

export function usePagedList<T>(o: {
  /** The route without `limit`/`cursor` (it may carry other parameters). */
  path: string;
  pageSize: number;
  live: readonly string[];
  throttleMs?: number;
  parse(data: unknown): Page<T>;
  key(item: T): string | number;
  /** Sort order of the merged rows (newest first). */
  order(a: T, b: T): number;
}): PagedList<T> {
  const sep = o.path.includes("?") ? "&" : "?";
  const head = useApi<unknown>(`${o.path}${sep}limit=${o.pageSize}`, {
    live: o.live,
    ...(o.throttleMs !== undefined ? { throttleMs: o.throttleMs } : {}),
  });
  const [rows, setRows] = useState<Map<string | number, T>>(new Map());
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [older, setOlder] = useState<{ loading: boolean; error?: string }>({ loading: false });
  // The callbacks are read when used, so callers may pass new functions each render.
  const fns = useRef(o);
  fns.current = o;

  const merge = useCallback((page: Page<T>) => {
    setRows((m) => {
      const next = new Map(m);
      for (const item of page.items) next.set(fns.current.key(item), item);
      return next;
    });
  }, []);

  useEffect(() => {
    if (head.data === undefined) return;
    const page = fns.current.parse(head.data);
    merge(page);
    setCursor((c) => (c === undefined ? page.nextCursor : c));
  }, [head.data, merge]);

  const loadOlder = useCallback(() => {
    if (!cursor) return;
    setOlder({ loading: true });
    apiGet<unknown>(`${o.path}${sep}limit=${o.pageSize}&cursor=${encodeURIComponent(cursor)}`)
      .then((data) => {
        const page = fns.current.parse(data);
        merge(page);
        setCursor(page.nextCursor);
        setOlder({ loading: false });
      })
      .catch((e: unknown) =>
        setOlder({ loading: false, error: e instanceof ApiError ? e.message : String(e) }),
      );
  }, [cursor, o.path, o.pageSize, sep, merge]);

  const items = useMemo(() => [...rows.values()].sort((a, b) => fns.current.order(a, b)), [rows]);
  return { head, items, cursor, older, loadOlder };
}
