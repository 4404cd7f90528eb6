// A real SSE client for the read side's tests: undici `request`, the body read as a stream
// and parsed into frames (id, event, data), comments (heartbeats) counted.
import { request } from "undici";

export type Frame = { id?: number; event: string; data: unknown };

export type SseClient = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  frames: Frame[];
  /** The data frames (not `overflow`). */
  events(): { seq: number; topic: string; subject: string; type: string }[];
  lastId(): number | undefined;
  /** Comment lines received (heartbeats). */
  comments(): number;
  /** Starts reading the body (a client opened with `read: false` reads nothing until then). */
  read(): void;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
};

export async function openSse(
  url: string,
  o: { lastEventId?: number; read?: boolean; headers?: Record<string, string> } = {},
): Promise<SseClient> {
  const res = await request(url, {
    headers: {
      ...o.headers,
      accept: "text/event-stream",
      ...(o.lastEventId !== undefined ? { "last-event-id": String(o.lastEventId) } : {}),
    },
  });
  const frames: Frame[] = [];
  let comments = 0;
  let buffer = "";
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  const parse = () => {
    let cut = buffer.indexOf("\n\n");
    while (cut >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      cut = buffer.indexOf("\n\n");
      const f: { id?: number; event?: string; data?: string } = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) comments++;
        if (line.startsWith(":") || line === "") continue;
        const i = line.indexOf(":");
        const key = line.slice(0, i);
        const value = line.slice(i + 1).replace(/^ /, "");
        if (key === "id") f.id = Number(value);
        else if (key === "event") f.event = value;
        else if (key === "data") f.data = (f.data === undefined ? "" : `${f.data}\n`) + value;
      }
      if (f.data !== undefined)
        frames.push({
          ...(f.id !== undefined ? { id: f.id } : {}),
          event: f.event ?? "message",
          data: JSON.parse(f.data),
        });
    }
  };
  let reading = false;
  const read = () => {
    if (reading) return;
    reading = true;
    res.body.setEncoding("utf8");
    res.body.on("data", (chunk: string) => {
      buffer += chunk;
      parse();
    });
    res.body.on("end", resolveEnded);
    res.body.on("error", resolveEnded);
    res.body.on("close", resolveEnded);
  };
  if (o.read !== false) read();
  return {
    status: res.statusCode,
    headers: res.headers,
    frames,
    events: () =>
      frames
        .filter((f) => f.event !== "overflow")
        .map((f) => f.data as { seq: number; topic: string; subject: string; type: string }),
    lastId: () => frames.filter((f) => f.id !== undefined).at(-1)?.id,
    comments: () => comments,
    read,
    ended,
    close: () => res.body.destroy(),
  };
}
