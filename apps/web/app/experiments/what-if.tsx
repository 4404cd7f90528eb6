"use client";
/**
 * What-if: the operator picks a candidate setting (the kinds @pw/ope evaluates: the
 * engine's Thompson policy with other options, a P(best) threshold, an even split, one
 * fixed variant) and the gateway estimates, off-policy, what it would have earned on the
 * decisions this segment already made — with its interval beside the logged policy's,
 * the effective sample size, and a plain sentence on how sure that is.
 */
import { type FormEvent, useId, useState } from "react";
import { Card } from "../../components/ui.tsx";
import { ApiError, apiSend } from "../../lib/api.ts";
import { count, pct } from "../../lib/format.ts";
import { IntervalBar } from "./interval-bar.tsx";
import type { Arm } from "./model.ts";
import {
  type CandidateForm,
  describeCandidate,
  EMPTY_FORM,
  type Interval,
  REWARDS,
  readResult,
  requestFromForm,
  rewardWords,
  type WhatIfRequest,
  type WhatIfResult,
} from "./what-if-model.ts";

/** Under this effective sample size the gateway calls an estimate a rough guess. */
const LOW_ESS = 30;

type Run =
  | { phase: "idle" }
  | { phase: "running"; request: WhatIfRequest }
  | { phase: "done"; request: WhatIfRequest; result: WhatIfResult }
  | { phase: "unavailable" }
  | { phase: "error"; request: WhatIfRequest; error: ApiError };

export function WhatIfPanel({ segment, arms }: { segment: string; arms: readonly Arm[] }) {
  const [form, setForm] = useState<CandidateForm>(EMPTY_FORM);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [run, setRun] = useState<Run>({ phase: "idle" });
  const ids = {
    kind: useId(),
    floor: useId(),
    sharpen: useId(),
    threshold: useId(),
    variant: useId(),
    reward: useId(),
    window: useId(),
    problem: useId(),
  };
  const set = (patch: Partial<CandidateForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    setProblem(undefined);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = requestFromForm(form);
    if (!parsed.ok) {
      setProblem(parsed.problem);
      return;
    }
    const request = parsed.request;
    setRun({ phase: "running", request });
    try {
      const raw = await apiSend<unknown>(
        `/api/experiments/${encodeURIComponent(segment)}/whatif`,
        request,
      );
      const result = readResult(raw);
      if (!result)
        setRun({
          phase: "error",
          request,
          error: new ApiError(0, "shape", "the gateway answered in a shape this page cannot read"),
        });
      else setRun({ phase: "done", request, result });
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError(0, "error", String(err));
      // A 404 without the read routes' own code: the gateway has no such route.
      if ((error.status === 404 || error.status === 405) && error.code !== "not_found")
        setRun({ phase: "unavailable" });
      else setRun({ phase: "error", request, error });
    }
  };

  const showKnobs = form.kind === "thompson" || form.kind === "threshold";
  const running = run.phase === "running";

  return (
    <Card title="What if? — another setting on the same decisions" id="whatif">
      <p className="muted small">
        Re-weights the decisions the engine already made in <strong>{segment}</strong> by how likely
        the candidate setting was to make each of them (off-policy evaluation). It tells you what
        that rule would have earned on the same leads — not how it would have learned differently.
      </p>
      {run.phase === "unavailable" ? (
        <div className="state state-empty" role="note">
          <p>
            <strong>What-if is not available on this gateway.</strong>
          </p>
          <p className="muted">
            It answers <code>POST /api/experiments/:segment/whatif</code> with “not found”: the
            gateway running here is older than this dashboard. The rest of the page still works;
            <code> pnpm ope --db --candidate …</code> gives the same estimate from the engine's
            database.
          </p>
          <button type="button" className="btn" onClick={() => setRun({ phase: "idle" })}>
            Try again
          </button>
        </div>
      ) : (
        <form className="whatif-form" onSubmit={submit} aria-describedby={ids.problem}>
          <div className="whatif-fields">
            <div>
              <label htmlFor={ids.kind}>Candidate setting</label>
              <select
                id={ids.kind}
                value={form.kind}
                onChange={(e) => set({ kind: e.target.value as CandidateForm["kind"] })}
              >
                <option value="thompson">Current policy with other settings</option>
                <option value="threshold">Drop variants unlikely to be best</option>
                <option value="uniform">Split traffic evenly</option>
                <option value="fixed">Always send one variant</option>
                <option value="replay">Replay the current policy (a sanity check)</option>
              </select>
            </div>
            {form.kind === "threshold" ? (
              <div>
                <label htmlFor={ids.threshold}>Drop below P(best) of (%)</label>
                <input
                  id={ids.threshold}
                  type="number"
                  inputMode="decimal"
                  min={0.1}
                  max={99.9}
                  step={0.1}
                  required
                  value={form.threshold}
                  onChange={(e) => set({ threshold: e.target.value })}
                />
              </div>
            ) : null}
            {form.kind === "fixed" ? (
              <div>
                <label htmlFor={ids.variant}>Variant</label>
                <select
                  id={ids.variant}
                  value={form.variant}
                  required
                  onChange={(e) => set({ variant: e.target.value })}
                >
                  <option value="">Choose…</option>
                  {arms.map((a) => (
                    <option key={a.variantId} value={a.variantId}>
                      {a.variantId}
                      {a.status === "active" ? "" : ` (${a.status} now)`}
                    </option>
                  ))}
                </select>
              </div>
            ) : null}
            {showKnobs ? (
              <>
                <div>
                  <label htmlFor={ids.floor}>Exploration floor per variant (%)</label>
                  <input
                    id={ids.floor}
                    type="number"
                    inputMode="decimal"
                    min={0}
                    max={50}
                    step={0.5}
                    value={form.floor}
                    onChange={(e) => set({ floor: e.target.value })}
                    placeholder="engine's (1)"
                  />
                </div>
                <div>
                  <label htmlFor={ids.sharpen}>Greediness (1 = plain Thompson)</label>
                  <input
                    id={ids.sharpen}
                    type="number"
                    inputMode="decimal"
                    min={0.1}
                    max={20}
                    step={0.1}
                    value={form.sharpen}
                    onChange={(e) => set({ sharpen: e.target.value })}
                    placeholder="engine's"
                  />
                </div>
              </>
            ) : null}
          </div>
          <details className="whatif-scoring">
            <summary>What counts as a success, and for how long</summary>
            <div className="whatif-fields">
              <div>
                <label htmlFor={ids.reward}>Outcome that counts</label>
                <select
                  id={ids.reward}
                  value={form.reward}
                  onChange={(e) => set({ reward: e.target.value as CandidateForm["reward"] })}
                >
                  <option value="">What this segment optimises</option>
                  {REWARDS.map((r) => (
                    <option key={r} value={r}>
                      {rewardWords(r)}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label htmlFor={ids.window}>Attribution window (days)</label>
                <input
                  id={ids.window}
                  type="number"
                  inputMode="decimal"
                  min={0.01}
                  max={90}
                  step="any"
                  value={form.windowDays}
                  onChange={(e) => set({ windowDays: e.target.value })}
                  placeholder="engine's (14)"
                />
              </div>
            </div>
            <p className="muted small">
              A decision is scored once its window has closed; a shorter window scores more of the
              recent ones (useful in the demo, where outcomes arrive within minutes).
            </p>
          </details>
          <p id={ids.problem} className="form-error" role={problem ? "alert" : undefined}>
            {problem ?? ""}
          </p>
          <button type="submit" className="btn btn-primary" disabled={running}>
            {running ? "Estimating…" : "Estimate"}
          </button>
        </form>
      )}
      <WhatIfOutcome run={run} segment={segment} />
    </Card>
  );
}

function WhatIfOutcome({ run, segment }: { run: Run; segment: string }) {
  if (run.phase === "idle" || run.phase === "unavailable") return null;
  if (run.phase === "running")
    return (
      <p className="state state-loading" role="status" aria-live="polite">
        Estimating {describeCandidate(run.request.candidate)} on the decisions logged for {segment}…
      </p>
    );
  if (run.phase === "error") {
    const e = run.error;
    return (
      <div className="state state-error" role="alert">
        <p>
          <strong>
            {e.status === 400 ? "The gateway refused this setting." : "The estimate failed."}
          </strong>{" "}
          {e.issues.length === 0 ? e.message : null}
        </p>
        {e.issues.length > 0 ? (
          <ul>
            {e.issues.map((i) => (
              <li key={`${i.field}:${i.message}`}>
                {i.field ? <code>{i.field}</code> : null} {i.message}
              </li>
            ))}
          </ul>
        ) : null}
        <p className="muted small">
          {e.status === 400
            ? "Change the setting and estimate again."
            : "Try again; if it keeps failing, check the gateway on Health."}
        </p>
      </div>
    );
  }
  const r = run.result;
  if (!r.enough)
    return (
      <div className="state state-empty whatif-result" role="status">
        <p>
          <strong>Not enough decisions to estimate this yet.</strong>
        </p>
        <p>{r.sentence}</p>
        <Counts result={r} />
        <p className="muted small">
          Come back once more outreach in {segment} has settled, or score with a shorter attribution
          window (under “What counts as a success”).
        </p>
      </div>
    );
  return <WhatIfResultView request={run.request} result={r} segment={segment} />;
}

function Counts({ result: r }: { result: WhatIfResult }) {
  const d = r.decisions;
  return (
    <p className="muted small">
      {count(r.n)} decisions scored
      {d
        ? ` of ${count(d.logged)} logged (${count(d.open)} still inside their ${r.windowDays ?? "?"}-day window, ${count(d.withdrawn)} never sent, ${count(d.notEvaluable)} without what OPE needs)`
        : ""}
      ; success = {rewardWords(r.reward)}.
    </p>
  );
}

function WhatIfResultView(p: { request: WhatIfRequest; result: WhatIfResult; segment: string }) {
  const r = p.result;
  const est = r.estimate;
  const [lo, hi] = r.interval ?? [null, null];
  const [bLo, bHi] = r.baseline.interval ?? [null, null];
  const tops = [est, hi, r.baseline.rate, bHi].filter((v): v is number => v !== null);
  const max = Math.min(1, Math.max(0.01, ...tops) * 1.15);
  const ess = r.effectiveSampleSize;
  const weak = est === null || ess === null || ess < LOW_ESS;
  const label = describeCandidate(p.request.candidate);
  const range = (i: Interval | null) =>
    i === null ? "interval unknown" : `95% interval ${pct(i[0])}–${pct(i[1])}`;
  return (
    <div className="whatif-result" aria-live="polite">
      {weak ? (
        <p className="whatif-caution" role="note">
          <span aria-hidden="true">⚠ </span>
          <strong>Few comparable decisions — treat this as a hint, not a result.</strong>{" "}
          {ess === null
            ? "The gateway gave no effective sample size."
            : `Only about ${count(Math.round(ess))} of the ${count(r.n)} scored decisions resemble what this setting would have done.`}
        </p>
      ) : null}
      <p className="whatif-sentence">{r.sentence}</p>
      <table className="whatif-table">
        <caption className="xp-caption">
          {capitalise(rewardWords(r.reward))} per decision in {p.segment}: {r.estimator} estimate
          for the candidate, observed rate for the policy that ran
        </caption>
        <thead>
          <tr>
            <th scope="col">Policy</th>
            <th scope="col">Rate</th>
            <th scope="col" className="xp-rate-col">
              <span className="sr-only">Interval on a shared axis</span>
            </th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">
              Candidate: {label}
              <span className="muted small xp-basis">
                <code>{r.spec}</code>
              </span>
            </th>
            <td>
              <strong>{est === null ? "no estimate" : pct(est)}</strong>{" "}
              <span className="small">({range(r.interval)})</span>
            </td>
            <td>
              <IntervalBar mean={est} low={lo} high={hi} max={max} />
            </td>
          </tr>
          <tr>
            <th scope="row">Logged policy (what the engine did)</th>
            <td>
              <strong>{pct(r.baseline.rate)}</strong>{" "}
              <span className="small">({range(r.baseline.interval)})</span>
            </td>
            <td>
              <IntervalBar mean={r.baseline.rate} low={bLo} high={bHi} max={max} tone="baseline" />
            </td>
          </tr>
        </tbody>
      </table>
      <p className="muted small">
        Effective sample size <strong>{ess === null ? "—" : count(Math.round(ess))}</strong> of{" "}
        {count(r.n)} scored decisions: how many the estimate is really worth (the fewer resemble the
        candidate's choices, the lower).
        {r.ips
          ? ` Unnormalised IPS estimate: ${pct(r.ips.estimate)} (${range(r.ips.interval)}).`
          : ""}
      </p>
      <Counts result={r} />
      {r.warnings.length > 0 ? (
        <ul className="whatif-warnings small" aria-label="Caveats">
          {r.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
