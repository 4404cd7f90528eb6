"use client";
/** "Show older" under a paged list (see use-paged-list.ts), with its loading and error states. */
import type { PagedList } from "./use-paged-list.ts";

export function Pager<T>({
  list,
  pageSize,
  noun,
}: {
  list: PagedList<T>;
  pageSize: number;
  /** Plural: "commands", "versions". */
  noun: string;
}) {
  return (
    <div className="pager">
      {list.cursor ? (
        <button
          type="button"
          className="btn"
          onClick={list.loadOlder}
          disabled={list.older.loading}
        >
          {list.older.loading ? `Loading older ${noun}…` : `Show ${pageSize} older ${noun}`}
        </button>
      ) : list.cursor === null ? (
        <span className="muted small">
          That is every {noun.replace(/s$/, "")} ({list.items.length}).
        </span>
      ) : null}
      {list.older.error ? (
        <span className="field-error" role="alert">
          Could not load older {noun}: {list.older.error}. Try again.
        </span>
      ) : null}
    </div>
  );
}
