"use client";
/**
 * "Learned lately": what the experiment engine (or an operator) changed, newest first, as
 * the gateway's plain sentences with their numbers and time, each linking to the
 * experiments page for that segment — the evidence.
 */
import Link from "next/link";
import { Empty, ErrorNote, Loading, StatusBadge } from "../../components/ui.tsx";
import { ago, when } from "../../lib/format.ts";
import { TOPICS } from "../../lib/topics.ts";
import { useApi } from "../../lib/use-api.ts";

export type FeedItem = {
  seq: number;
  at: string;
  kind: string;
  segment: string;
  variantId: string;
  from: string;
  to: string;
  by: string;
  reason: string;
  numbers: { pBest: number; mean: number; exposures: number; successes: number } | null;
  sentence: string;
  evidence: string;
};
type Feed = { items: FeedItem[]; nextCursor: string | null };

const LIVE = [TOPICS.experimentUpdates];

function tone(to: string): "ok" | "warn" | undefined {
  if (to === "active" || to === "sending") return "ok";
  if (to === "suppressed" || to === "paused" || to === "blocked") return "warn";
  return undefined;
}

export function LearnedFeed({ now }: { now: number }) {
  const feed = useApi<Feed>("/api/feed?limit=20", { live: LIVE, throttleMs: 1_000 });
  if (!feed.data) {
    if (feed.error) return <ErrorNote error={feed.error} retry={feed.reload} />;
    return <Loading what="what the engine learned" />;
  }
  if (feed.data.items.length === 0)
    return (
      <Empty title="Nothing learned yet.">
        The engine reports here when it suppresses, pauses or revives a message. It needs sends and
        outcomes first: start the demo (<code>pnpm demo</code>) or let outreach run.
      </Empty>
    );
  return (
    <>
      {feed.error ? <ErrorNote error={feed.error} retry={feed.reload} /> : null}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard */}
      <ul className="feed feed-scroll" tabIndex={0} aria-label="Learned lately, newest first">
        {feed.data.items.map((item) => (
          <li key={item.seq}>
            <p className="feed-sentence">
              <StatusBadge status={item.to} tone={tone(item.to)} /> {item.sentence}
            </p>
            <p className="small muted">
              <time dateTime={item.at} title={when(item.at)}>
                {ago(item.at, now)}
              </time>
              {" · "}
              <Link href={`/experiments?segment=${encodeURIComponent(item.segment)}`}>
                Evidence: {item.segment} results
              </Link>
            </p>
          </li>
        ))}
      </ul>
    </>
  );
}
