"use client";
/**
 * The playbook editor: pick a variant (or start a new one), edit its channel, angle,
 * templates and cadence, and see it rendered for a sample lead as you type (the gateway's
 * preview, debounced — the same parser the engine uses, so a bad slot is named next to
 * its field before anything is saved). Saving and retiring are admin commands, each
 * confirmed first; everyone else sees the editor read-only.
 */
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { isMissingRoute } from "../../components/api-view.tsx";
import { ConfirmButton } from "../../components/confirm-button.tsx";
import { useRoleGate } from "../../components/role.tsx";
import { Card, CommandNote } from "../../components/ui.tsx";
import { ApiError, apiGet, apiSend } from "../../lib/api.ts";
import { useCommand } from "../../lib/command.ts";
import { when } from "../../lib/format.ts";
import { useSession } from "../../lib/session.tsx";
import { TOPICS } from "../../lib/topics.ts";
import { useApi } from "../../lib/use-api.ts";
import { auditPage, type KnownVariant, knownVariants } from "./shapes.ts";

const CHANNELS = ["email", "linkedin", "slack", "in_app"] as const;
const SLOTS = ["firstName", "company", "role", "industry", "trigger", "painPoint"] as const;
type Slot = (typeof SLOTS)[number];
const SAMPLE_LABELS: Record<Slot, string> = {
  firstName: "First name",
  company: "Company",
  role: "Role",
  industry: "Industry",
  trigger: "What they did (trigger)",
  painPoint: "Pain point",
};
const NEW = "__new__";
const PREVIEW_DEBOUNCE_MS = 400;
const VARIANT_ID = /^[a-z0-9_-]+$/;

type Draft = {
  variantId: string;
  channel: (typeof CHANNELS)[number];
  angle: string;
  subjectTemplate: string;
  bodyTemplate: string;
  cadenceStep: number;
  delayDays: number;
  parentVariantId: string;
};
type Field = keyof Draft;

const EMPTY: Draft = {
  variantId: "",
  channel: "email",
  angle: "",
  subjectTemplate: "",
  bodyTemplate: "",
  cadenceStep: 0,
  delayDays: 0,
  parentVariantId: "",
};

type Preview = { subject: string; body: string; slots: string[]; sample: Record<string, string> };
type PreviewState =
  | { phase: "idle" }
  | { phase: "loading" }
  | { phase: "ok"; preview: Preview }
  | { phase: "invalid"; issues: { field: string; message: string }[] }
  | { phase: "unavailable" }
  | { phase: "error"; message: string };

export function PlaybookEditor() {
  const router = useRouter();
  const params = useSearchParams();
  const { me } = useSession();
  const admin = useRoleGate("admin");
  const operator = useRoleGate("operator");
  const experiments = useApi<unknown>("/api/experiments", { live: [TOPICS.experimentUpdates] });
  const variants = useMemo(() => knownVariants(experiments.data), [experiments.data]);

  const [selected, setSelected] = useState<string>(params.get("variant") ?? NEW);
  const [draft, setDraft] = useState<Draft>(() => ({
    ...EMPTY,
    variantId: params.get("variant") ?? "",
  }));
  const [origin, setOrigin] = useState<string>("");
  const [sample, setSample] = useState<Partial<Record<Slot, string>>>({});
  const [reason, setReason] = useState("");
  const save = useCommand();
  const retire = useCommand();
  const preview = usePreview(draft, sample, operator.allowed);
  const readOnly = !admin.allowed;

  // Starting from an existing variant: its last edit through this dashboard, if any.
  useEffect(() => {
    if (selected === NEW) return;
    let cancelled = false;
    setOrigin("Looking for this variant's last saved text…");
    lastUpsertOf(selected)
      .then((found) => {
        if (cancelled) return;
        if (found) {
          setDraft(found.draft);
          setOrigin(
            `Loaded from the last edit saved through this dashboard (by ${found.by}, ${when(found.at)}). Saving replaces it.`,
          );
        } else {
          setDraft({ ...EMPTY, variantId: selected });
          setOrigin(
            "This variant's current text was not written through this dashboard, so the gateway cannot show it: write the full version you want — saving replaces it.",
          );
        }
      })
      .catch(() => {
        if (cancelled) return;
        setDraft({ ...EMPTY, variantId: selected });
        setOrigin(
          "Could not read the audit log for this variant's last text: the fields start empty.",
        );
      });
    return () => {
      cancelled = true;
    };
  }, [selected]);

  const pick = (value: string) => {
    setSelected(value);
    save.reset();
    retire.reset();
    if (value === NEW) {
      setDraft(EMPTY);
      setOrigin("");
    }
    const next = new URLSearchParams(params.toString());
    if (value === NEW) next.delete("variant");
    else next.set("variant", value);
    const qs = next.toString();
    router.replace(`/controls${qs ? `?${qs}` : ""}#playbook`, { scroll: false });
  };

  const set = <K extends Field>(field: K, value: Draft[K]) => {
    setDraft((d) => ({ ...d, [field]: value }));
    if (save.state.phase === "error") save.reset();
  };

  // Problems shown beside their field: ours first (as you type), then the gateway's.
  const errors = new Map<string, string>();
  if (draft.variantId && !VARIANT_ID.test(draft.variantId))
    errors.set("variantId", "use lowercase letters, digits, _ and - only");
  if (preview.phase === "invalid")
    for (const i of preview.issues) if (!errors.has(i.field)) errors.set(i.field, i.message);
  if (save.state.phase === "error")
    for (const i of save.state.issues) if (!errors.has(i.field)) errors.set(i.field, i.message);

  const missing = [
    !draft.variantId && "a variant id",
    !draft.angle.trim() && "an angle",
    !draft.bodyTemplate.trim() && "a body",
  ].filter((m): m is string => typeof m === "string");
  const existing = selected !== NEW;
  const busy = (s: { phase: string }) => s.phase === "sending";

  const upsertBody = () => ({
    variantId: draft.variantId,
    channel: draft.channel,
    angle: draft.angle.trim(),
    subjectTemplate: draft.subjectTemplate,
    bodyTemplate: draft.bodyTemplate,
    cadenceStep: draft.cadenceStep,
    delayDays: draft.delayDays,
    ...(draft.cadenceStep > 0 && draft.parentVariantId
      ? { parentVariantId: draft.parentVariantId }
      : {}),
    ...(reason.trim() ? { reason: reason.trim() } : {}),
  });

  const ids = {
    pick: useId(),
    variantId: useId(),
    channel: useId(),
    angle: useId(),
    subject: useId(),
    body: useId(),
    step: useId(),
    delay: useId(),
    parent: useId(),
    reason: useId(),
  };
  const err = (field: Field) => {
    const e = errors.get(field);
    return e ? (
      <p className="field-error" id={`${ids[FIELD_IDS[field]]}-error`}>
        <span aria-hidden="true">⚠ </span>
        {e}
      </p>
    ) : null;
  };
  const described = (field: Field) =>
    errors.has(field) ? `${ids[FIELD_IDS[field]]}-error` : undefined;

  return (
    <Card id="playbook" title="Playbook editor">
      {readOnly ? (
        <p className="note-readonly" role="note">
          Read-only: only admins can change the playbook — you are signed in as{" "}
          {me?.role ?? "a viewer"}.{" "}
          {operator.allowed
            ? "The preview still renders what is shown, for any sample lead you choose."
            : "The preview needs the operator role."}
        </p>
      ) : null}
      <div className="editor-pick">
        <label htmlFor={ids.pick}>Variant to edit</label>
        <select id={ids.pick} value={selected} onChange={(e) => pick(e.target.value)}>
          <option value={NEW}>New variant…</option>
          {variants.map((v) => (
            <option key={v.variantId} value={v.variantId}>
              {variantOption(v)}
            </option>
          ))}
          {selected !== NEW && !variants.some((v) => v.variantId === selected) ? (
            <option value={selected}>{selected} (not in the experiments yet)</option>
          ) : null}
        </select>
        {experiments.error && !isMissingRoute(experiments.error) ? (
          <p className="muted small">
            Could not list the variants ({experiments.error.message}); you can still write a new
            one.
          </p>
        ) : null}
        {origin ? (
          <p className="muted small" role="status">
            {origin}
          </p>
        ) : null}
      </div>
      <div className="editor">
        <fieldset className="editor-form" disabled={readOnly}>
          <legend className="sr-only">Variant</legend>
          <div className="editor-row">
            <div>
              <label htmlFor={ids.variantId}>Variant id</label>
              <input
                id={ids.variantId}
                value={draft.variantId}
                maxLength={100}
                readOnly={selected !== NEW}
                aria-invalid={errors.has("variantId")}
                aria-describedby={described("variantId")}
                onChange={(e) => set("variantId", e.target.value)}
                placeholder="e.g. roi-angle-v2"
              />
              {err("variantId")}
            </div>
            <div>
              <label htmlFor={ids.channel}>Channel</label>
              <select
                id={ids.channel}
                value={draft.channel}
                onChange={(e) => set("channel", e.target.value as Draft["channel"])}
              >
                {CHANNELS.map((c) => (
                  <option key={c} value={c}>
                    {c.replace("_", "-")}
                  </option>
                ))}
              </select>
              {err("channel")}
            </div>
            <div className="grow">
              <label htmlFor={ids.angle}>Angle</label>
              <input
                id={ids.angle}
                className="wide"
                value={draft.angle}
                maxLength={100}
                aria-invalid={errors.has("angle")}
                aria-describedby={described("angle")}
                onChange={(e) => set("angle", e.target.value)}
                placeholder="e.g. time saved"
              />
              {err("angle")}
            </div>
          </div>
          <label htmlFor={ids.subject}>Subject template</label>
          <input
            id={ids.subject}
            className="wide mono"
            value={draft.subjectTemplate}
            maxLength={500}
            aria-invalid={errors.has("subjectTemplate")}
            aria-describedby={described("subjectTemplate")}
            onChange={(e) => set("subjectTemplate", e.target.value)}
          />
          {err("subjectTemplate")}
          <label htmlFor={ids.body}>Body template</label>
          <textarea
            id={ids.body}
            rows={9}
            value={draft.bodyTemplate}
            maxLength={20_000}
            aria-invalid={errors.has("bodyTemplate")}
            aria-describedby={described("bodyTemplate")}
            onChange={(e) => set("bodyTemplate", e.target.value)}
          />
          {err("bodyTemplate")}
          <p className="muted small">
            Slots you can use:{" "}
            {SLOTS.map((s, i) => (
              <span key={s}>
                {i > 0 ? ", " : ""}
                <code>{`{{${s}}}`}</code>
              </span>
            ))}
            . A lead without that fact gets a neutral phrase instead.
          </p>
          <div className="editor-row">
            <div>
              <label htmlFor={ids.step}>Cadence step</label>
              <input
                id={ids.step}
                type="number"
                min={0}
                max={20}
                value={draft.cadenceStep}
                onChange={(e) => set("cadenceStep", clampInt(e.target.value, 0, 20))}
                aria-describedby={`${ids.step}-hint`}
              />
              <p className="muted small" id={`${ids.step}-hint`}>
                0 is the first touch; 1, 2… are follow-ups.
              </p>
              {err("cadenceStep")}
            </div>
            <div>
              <label htmlFor={ids.delay}>Delay (days after the previous step)</label>
              <input
                id={ids.delay}
                type="number"
                min={0}
                max={90}
                value={draft.delayDays}
                onChange={(e) => set("delayDays", clampInt(e.target.value, 0, 90))}
              />
              {err("delayDays")}
            </div>
            {draft.cadenceStep > 0 ? (
              <div>
                <label htmlFor={ids.parent}>Follows</label>
                <select
                  id={ids.parent}
                  value={draft.parentVariantId}
                  onChange={(e) => set("parentVariantId", e.target.value)}
                >
                  <option value="">any first touch</option>
                  {variants
                    .filter((v) => v.variantId !== draft.variantId)
                    .map((v) => (
                      <option key={v.variantId} value={v.variantId}>
                        {v.variantId}
                      </option>
                    ))}
                </select>
                {err("parentVariantId")}
              </div>
            ) : null}
          </div>
          <label htmlFor={ids.reason}>Why this change (optional, kept in the audit log)</label>
          <input
            id={ids.reason}
            className="wide"
            maxLength={1000}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </fieldset>
        <PreviewPane
          state={preview}
          sample={sample}
          onSample={setSample}
          canPreview={operator.allowed}
        />
      </div>
      <div className="editor-actions">
        <ConfirmButton
          label={existing ? "Save changes" : "Create variant"}
          title={existing ? `Save ${draft.variantId}?` : `Create ${draft.variantId || "variant"}?`}
          confirmLabel={existing ? "Save" : "Create"}
          tone="primary"
          disabled={readOnly || missing.length > 0 || errors.has("variantId") || busy(save.state)}
          disabledTitle={
            admin.why ??
            (missing.length > 0 ? `Still needed: ${missing.join(", ")}` : "Fix the field marked ⚠")
          }
          onConfirm={() => void save.send("/api/commands/playbook-upsert", upsertBody())}
        >
          <p>
            {existing
              ? "Leads decided from now on receive the new text. Messages already sent or queued keep theirs."
              : "The engine adds the variant to the experiment of every segment it fits, starting from no data."}
          </p>
          <p className="muted small">
            {draft.channel} · angle “{draft.angle}” · step {draft.cadenceStep}
            {draft.cadenceStep > 0 ? `, ${draft.delayDays} days after the previous step` : ""}
          </p>
        </ConfirmButton>
        {!readOnly && missing.length > 0 ? (
          <span className="muted small">To save, add {missing.join(", ")}.</span>
        ) : null}
        {existing ? (
          <ConfirmButton
            label="Retire variant"
            title={`Retire ${selected}?`}
            confirmLabel="Retire"
            tone="danger"
            reasonLabel="Reason (optional, kept in the audit log)"
            disabled={readOnly || busy(retire.state)}
            disabledTitle={admin.why}
            onConfirm={(r) =>
              void retire.send("/api/commands/playbook-retire", {
                variantId: selected,
                ...(r ? { reason: r } : {}),
              })
            }
          >
            <p>
              The engine stops choosing <code>{selected}</code> in every segment. It stays visible
              (greyed) on Experiments with its numbers; saving it again brings it back.
            </p>
          </ConfirmButton>
        ) : null}
      </div>
      <CommandNote state={save.state} />
      <CommandNote state={retire.state} />
    </Card>
  );
}

function PreviewPane(p: {
  state: PreviewState;
  sample: Partial<Record<Slot, string>>;
  onSample(s: Partial<Record<Slot, string>>): void;
  canPreview: boolean;
}) {
  const base = useId();
  const s = p.state;
  return (
    <section className="editor-preview" aria-labelledby={`${base}-h`}>
      <h3 id={`${base}-h`}>Preview for a sample lead</h3>
      <div aria-live="polite" aria-atomic="true">
        {!p.canPreview ? (
          <p className="muted">The preview needs the operator role.</p>
        ) : s.phase === "unavailable" ? (
          <p className="muted">The preview is not available on this gateway.</p>
        ) : s.phase === "idle" ? (
          <p className="muted">Write a body to see it rendered.</p>
        ) : s.phase === "error" ? (
          <p className="field-error">Could not render the preview: {s.message}</p>
        ) : s.phase === "invalid" ? (
          <p className="field-error">
            <span aria-hidden="true">⚠ </span>
            Not rendered: fix the field marked ⚠ ({s.issues.map((i) => i.message).join("; ")}).
          </p>
        ) : s.phase === "loading" ? (
          <p className="muted">Rendering…</p>
        ) : (
          <>
            <p className="muted small">
              For {s.preview.sample.firstName ?? "a lead"}, {s.preview.sample.role ?? "—"} at{" "}
              {s.preview.sample.company ?? "—"}
              {s.preview.slots.length
                ? ` · slots used: ${s.preview.slots.join(", ")}`
                : " · no slots used"}
            </p>
            <p className="message-subject">
              <span className="muted">Subject: </span>
              {s.preview.subject || <span className="muted">(empty)</span>}
            </p>
            <div className="message">{s.preview.body}</div>
          </>
        )}
      </div>
      <details className="sample">
        <summary>Change the sample lead</summary>
        <div className="sample-grid">
          {SLOTS.map((slot) => (
            <div key={slot}>
              <label htmlFor={`${base}-${slot}`}>{SAMPLE_LABELS[slot]}</label>
              <input
                id={`${base}-${slot}`}
                maxLength={500}
                value={p.sample[slot] ?? ""}
                placeholder={
                  p.state.phase === "ok" ? (p.state.preview.sample[slot] ?? "") : undefined
                }
                onChange={(e) => p.onSample({ ...p.sample, [slot]: e.target.value })}
              />
            </div>
          ))}
        </div>
        <p className="muted small">Leave a field empty to use the gateway's sample value.</p>
      </details>
    </section>
  );
}

/** The gateway's rendering of the draft, fetched at most every PREVIEW_DEBOUNCE_MS of typing. */
function usePreview(
  draft: Draft,
  sample: Partial<Record<Slot, string>>,
  enabled: boolean,
): PreviewState {
  const [state, setState] = useState<PreviewState>({ phase: "idle" });
  const generation = useRef(0);
  const sampleKey = JSON.stringify(sample);
  useEffect(() => {
    if (!enabled) return;
    if (!draft.bodyTemplate.trim()) {
      setState({ phase: "idle" });
      return;
    }
    const g = ++generation.current;
    const facts = Object.fromEntries(
      Object.entries(JSON.parse(sampleKey) as Record<string, string>).filter(
        ([, v]) => v.trim() !== "",
      ),
    );
    const t = setTimeout(() => {
      setState((s) => (s.phase === "ok" ? s : { phase: "loading" }));
      apiSend<Preview>("/api/playbook/preview", {
        subjectTemplate: draft.subjectTemplate,
        bodyTemplate: draft.bodyTemplate,
        ...(Object.keys(facts).length ? { sample: facts } : {}),
      })
        .then((preview) => g === generation.current && setState({ phase: "ok", preview }))
        .catch((e: unknown) => {
          if (g !== generation.current) return;
          const err = e instanceof ApiError ? e : new ApiError(0, "error", String(e));
          if (err.status === 404) setState({ phase: "unavailable" });
          else if (err.status === 400 && err.issues.length > 0)
            setState({ phase: "invalid", issues: err.issues });
          else setState({ phase: "error", message: err.message });
        });
    }, PREVIEW_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [draft.subjectTemplate, draft.bodyTemplate, sampleKey, enabled]);
  return state;
}

/** The latest playbook upsert of `variantId` in the audit log (the newest 200 commands). */
async function lastUpsertOf(
  variantId: string,
): Promise<{ draft: Draft; by: string; at: string } | undefined> {
  const page = auditPage(await apiGet<unknown>("/api/audit?limit=200"));
  const row = page.items.find(
    (i) =>
      i.commandType === "operator.playbook_upsert.v1" &&
      i.data.variantId === variantId &&
      !i.results.some((r) => r.result === "refused" || r.result === "failed"),
  );
  if (!row) return undefined;
  const d = row.data;
  const channel = CHANNELS.find((c) => c === d.channel) ?? "email";
  return {
    by: row.operator,
    at: row.at,
    draft: {
      variantId,
      channel,
      angle: typeof d.angle === "string" ? d.angle : "",
      subjectTemplate: typeof d.subjectTemplate === "string" ? d.subjectTemplate : "",
      bodyTemplate: typeof d.bodyTemplate === "string" ? d.bodyTemplate : "",
      cadenceStep: typeof d.cadenceStep === "number" ? d.cadenceStep : 0,
      delayDays: typeof d.delayDays === "number" ? d.delayDays : 0,
      parentVariantId: typeof d.parentVariantId === "string" ? d.parentVariantId : "",
    },
  };
}

function variantOption(v: KnownVariant): string {
  const status = v.status && v.status !== "active" ? ` — ${v.status}` : "";
  const segs = v.segments.length ? ` (${v.segments.join(", ")})` : "";
  return `${v.variantId}${status}${segs}`;
}

const FIELD_IDS = {
  variantId: "variantId",
  channel: "channel",
  angle: "angle",
  subjectTemplate: "subject",
  bodyTemplate: "body",
  cadenceStep: "step",
  delayDays: "delay",
  parentVariantId: "parent",
} as const;

function clampInt(value: string, min: number, max: number): number {
  const n = Math.round(Number(value));
  if (!Number.isFinite(n)) return min;
  return Math.min(max, Math.max(min, n));
}
