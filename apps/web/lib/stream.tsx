"use client";
/**
 * One live stream per tab: an EventSource on /api/stream, shared by every view. It
 * reconnects by itself and resumes with Last-Event-ID (the gateway replays what was
 * missed, nothing twice); if the browser gives up (a 401, the server gone), it is opened
 * again with `?lastEventId=` from the last row seen. Views subscribe to topics and refetch
 * what they show — new rows appear without a reload.
 */
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { apiGet } from "./api.ts";
import { useSession } from "./session.tsx";
import { ALL_STREAM_TOPICS, type StreamRow } from "./topics.ts";

export type StreamStatus = "connecting" | "live" | "reconnecting" | "offline";
type Listener = (row: StreamRow) => void;

type StreamState = {
  status: StreamStatus;
  /** Rows received in this tab. */
  received: number;
  subscribe(topics: readonly string[] | null, fn: Listener): () => void;
};

const StreamContext = createContext<StreamState | null>(null);

export function StreamProvider({ children }: { children: ReactNode }) {
  const { me } = useSession();
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const [received, setReceived] = useState(0);
  const listeners = useRef(new Set<{ topics: readonly string[] | null; fn: Listener }>());
  const lastSeq = useRef<number | undefined>(undefined);

  useEffect(() => {
    if (!me) return;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempts = 0;
    let closed = false;
    const open = () => {
      const url =
        lastSeq.current === undefined
          ? "/api/stream"
          : `/api/stream?lastEventId=${lastSeq.current}`;
      const es = new EventSource(url);
      source = es;
      es.onopen = () => {
        attempts = 0;
        setStatus("live");
      };
      es.onerror = () => {
        if (closed) return;
        if (es.readyState === EventSource.CLOSED) {
          // The browser gave up (an error status): check the session, then open again.
          setStatus("offline");
          es.close();
          attempts++;
          retry = setTimeout(
            () => {
              apiGet("/api/me")
                .then(open)
                .catch(() => {
                  retry = setTimeout(open, 5_000);
                });
            },
            Math.min(30_000, 500 * 2 ** attempts),
          );
        } else setStatus("reconnecting");
      };
      const onRow = (e: MessageEvent<string>) => {
        let row: StreamRow;
        try {
          row = JSON.parse(e.data) as StreamRow;
        } catch {
          return;
        }
        if (typeof row.seq === "number") lastSeq.current = row.seq;
        setReceived((n) => n + 1);
        for (const l of listeners.current) if (!l.topics || l.topics.includes(row.topic)) l.fn(row);
      };
      for (const topic of ALL_STREAM_TOPICS) es.addEventListener(topic, onRow);
      es.addEventListener("message", onRow);
    };
    open();
    return () => {
      closed = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [me]);

  const subscribe = useCallback((topics: readonly string[] | null, fn: Listener) => {
    const entry = { topics, fn };
    listeners.current.add(entry);
    return () => {
      listeners.current.delete(entry);
    };
  }, []);
  const value = useMemo(() => ({ status, received, subscribe }), [status, received, subscribe]);

  return <StreamContext.Provider value={value}>{children}</StreamContext.Provider>;
}

export function useStream(): StreamState {
  const s = useContext(StreamContext);
  if (!s) throw new Error("useStream outside StreamProvider");
  return s;
}

/** Calls `fn` for each live row of `topics` (null: every topic) while mounted. */
export function useStreamRows(topics: readonly string[] | null, fn: Listener): void {
  const { subscribe } = useStream();
  const ref = useRef(fn);
  ref.current = fn;
  const key = topics ? topics.join(",") : "*";
  // Keyed by the topics' text: a new array with the same topics is the same subscription.
  useEffect(() => subscribe(topics, (row) => ref.current(row)), [key, subscribe]);
}
