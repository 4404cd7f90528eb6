"use client";
/**
 * Lead queue: every lead by priority with its score, tier, top reasons, segment, status
 * and when it last changed; filters in the URL; live.
 */
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { Loading, PageHeader } from "../../components/ui.tsx";
import { Filters, filterQuery, readFilters } from "./_components/filters.tsx";
import { LeadQueue } from "./_components/lead-queue.tsx";

export default function LeadsPage() {
  return (
    <>
      <PageHeader title="Leads" />
      <Suspense fallback={<Loading what="the lead queue" />}>
        <FilteredQueue />
      </Suspense>
    </>
  );
}

function FilteredQueue() {
  const params = useSearchParams();
  const query = filterQuery(readFilters(new URLSearchParams(params.toString())));
  return (
    <>
      <Filters />
      {/* A new filter is a new queue: its pages, held rows and cursor start over. */}
      <LeadQueue key={query} query={query} filtered={query !== ""} />
    </>
  );
}
