/**
 * Progress on stderr: a bar (cli-progress) when stderr is a terminal, else one plain line
 * every few seconds (CI logs, pipes) and one at the end — never silent for long.
 */
import { SingleBar } from "cli-progress";
import type { Progress } from "./summary.ts";

export type ProgressDisplay = { update(p: Progress): void; stop(): void };

const counts = (p: Progress) =>
  `accepted ${p.accepted}, duplicates ${p.duplicates}, rejected ${p.rejected}` +
  (p.undelivered ? `, not delivered ${p.undelivered}` : "") +
  (p.retries ? `, retries ${p.retries}` : "") +
  (p.retrying ? ` (retrying: ${p.retrying}; giving up in ${p.secondsLeft} s)` : "");

export function progressDisplay(
  name: string,
  stream: NodeJS.WriteStream = process.stderr,
  everyMs = 2_000,
): ProgressDisplay {
  if (stream.isTTY) {
    const bar = new SingleBar({
      format: `${name} [{bar}] {value}/{total} {unit} | {counts}`,
      stream,
      hideCursor: true,
      clearOnComplete: false,
    });
    let started = false;
    return {
      update(p) {
        const payload = { unit: p.unit, counts: counts(p) };
        if (!started) {
          bar.start(p.total, p.done, payload);
          started = true;
        } else bar.update(p.done, payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last: Progress | undefined;
  let printedAt = Date.now();
  let printed: Progress | undefined;
  const print = (p: Progress) => {
    stream.write(`${name}: ${p.done}/${p.total} ${p.unit}: ${counts(p)}\n`);
    printed = p;
    printedAt = Date.now();
  };
  return {
    update(p) {
      last = p;
      if (Date.now() - printedAt >= everyMs) print(p);
    },
    stop() {
      if (last && last !== printed) print(last);
    },
  };
}
