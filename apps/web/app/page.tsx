"use client";
import { PageHeader } from "../components/ui.tsx";

export default function Overview() {
  return <PageHeader title="Overview" />;
}
