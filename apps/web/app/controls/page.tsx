"use client";
/**
 * Controls: the kill switch and approval mode, the approval queue (`#approvals`, where
 * the top bar's count leads), the playbook editor, the model versions and the audit log.
 * Every command shows what the service made of it, and lands in the audit log below.
 */
import { Suspense } from "react";
import { useControls } from "../../components/shell.tsx";
import { Loading, PageHeader } from "../../components/ui.tsx";
import { ApprovalQueue } from "./approval-queue.tsx";
import { AuditLog } from "./audit-log.tsx";
import { ModelVersions } from "./model-versions.tsx";
import { PlaybookEditor } from "./playbook-editor.tsx";
import { SafetySwitches } from "./safety-switches.tsx";

const SECTIONS = [
  { id: "kill-switch", label: "Kill switch" },
  { id: "approval-mode", label: "Approval mode" },
  { id: "approvals", label: "Approval queue" },
  { id: "playbook", label: "Playbook" },
  { id: "models", label: "Model versions" },
  { id: "audit", label: "Audit log" },
];

export default function ControlsPage() {
  const controls = useControls();
  return (
    <>
      <PageHeader title="Controls">
        <nav aria-label="Sections of this page" className="jump">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.id}>
                <a href={`#${s.id}`}>{s.label}</a>
              </li>
            ))}
          </ul>
        </nav>
      </PageHeader>
      <SafetySwitches controls={controls} />
      <ApprovalQueue approvalMode={controls.data?.approvalMode.enabled} />
      <Suspense fallback={<Loading what="the playbook editor" />}>
        <PlaybookEditor />
      </Suspense>
      <ModelVersions />
      <AuditLog />
    </>
  );
}
