"use client";
/**
 * The scoring model's versions, newest first, with why each exists, when it was in use and
 * how its predictions fared — a refit beside the version it was judged against, and a
 * refit that lost marked "not promoted" with scoring's verdict. Any version but the active
 * one can be rolled back to, a rejected one too (confirmed first, with a reason). Scoring
 * does that by activating a copy of the old weights as a new version, so the list grows by
 * one and history is never rewritten.
 */
import { ApiView } from "../../components/api-view.tsx";
import { ConfirmButton } from "../../components/confirm-button.tsx";
import { Pager } from "../../components/pager.tsx";
import { useRoleGate } from "../../components/role.tsx";
import { Ago } from "../../components/time.tsx";
import { Card, CommandNote, Empty, StatusBadge } from "../../components/ui.tsx";
import { useNow } from "../../components/use-now.ts";
import { usePagedList } from "../../components/use-paged-list.ts";
import { useCommand } from "../../lib/command.ts";
import { count, pct } from "../../lib/format.ts";
import { TOPICS } from "../../lib/topics.ts";
import {
  type HoldoutFigures,
  type ModelHoldout,
  type ModelMetrics,
  type ModelVersion,
  modelPage,
} from "./shapes.ts";

const PAGE = 20;
const LIVE = [TOPICS.modelUpdates, TOPICS.operatorCommandResults];
const byNewest = (a: ModelVersion, b: ModelVersion) => b.version - a.version;
const versionOf = (v: ModelVersion) => v.version;

export function ModelVersions() {
  const list = usePagedList({
    path: "/api/models",
    pageSize: PAGE,
    live: LIVE,
    throttleMs: 1_000,
    parse: modelPage,
    key: versionOf,
    order: byNewest,
  });
  const now = useNow(15_000);
  // The answer names the active version; a row loaded on an older page may predate it.
  const head = list.head.data === undefined ? undefined : modelPage(list.head.data);
  const activeVersion = head?.active ?? list.items.find((v) => v.active)?.version;
  return (
    <Card id="models" title="Model versions">
      <ApiView state={list.head} what="the model versions" route="GET /api/models">
        {() =>
          list.items.length === 0 ? (
            <Empty title="No model version yet.">
              Scoring announces its first version when it starts; if this stays empty, check on the
              Health page that scoring is running.
            </Empty>
          ) : (
            <>
              <p>
                {activeVersion !== undefined
                  ? `Leads are scored with version ${activeVersion}.`
                  : "No version is marked active."}{" "}
                <span className="muted small">
                  Scoring refits the model every so many labelled sends and promotes the refit only
                  if it beats the active version on recent labelled sends it was not trained on; a
                  refit that does not stays here as "not promoted". A refit's metrics are on those
                  sends, beside ("vs") the version it was judged against: AUC (how well it ranks,
                  0.5 is chance, higher is better), log-loss and calibration error (lower is
                  better). Versions from earlier releases learned from each outcome: their Brier
                  score is over the last (up to 50) outcomes up to them (lower is better, 0.25 is a
                  coin flip).
                </span>
              </p>
              <div className="table-scroll">
                <table>
                  <caption className="sr-only">Model versions, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Version</th>
                      <th scope="col">State</th>
                      <th scope="col">In use</th>
                      <th scope="col">Why it exists</th>
                      <th scope="col">Metrics</th>
                      <th scope="col">Action</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.items.map((v) => (
                      <VersionRow
                        key={v.version}
                        v={v}
                        active={v.version === activeVersion}
                        activeVersion={activeVersion}
                        now={now}
                      />
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager list={list} pageSize={PAGE} noun="versions" />
            </>
          )
        }
      </ApiView>
    </Card>
  );
}

function VersionRow(p: {
  v: ModelVersion;
  active: boolean;
  activeVersion: number | undefined;
  now: number;
}) {
  const { v } = p;
  const cmd = useCommand();
  const gate = useRoleGate("operator");
  // Only while the request is in flight: a confirmation that never comes must not lock it.
  const busy = cmd.state.phase === "sending";
  return (
    <tr className={p.active ? "row-active" : undefined}>
      <th scope="row">
        v{v.version}
        {v.name ? <div className="muted small">{v.name}</div> : null}
      </th>
      <td>
        {p.active ? (
          <StatusBadge status="✓ active — scoring now" tone="ok" />
        ) : v.rejected ? (
          <StatusBadge status="not promoted" tone="warn" />
        ) : (
          <span className="muted">inactive</span>
        )}
      </td>
      <td>
        {v.rejected ? (
          <span className="muted">
            never — judged {v.activatedAt ? <Ago iso={v.activatedAt} now={p.now} /> : null}
          </span>
        ) : v.activatedAt ? (
          <>
            from <Ago iso={v.activatedAt} now={p.now} />
          </>
        ) : (
          "—"
        )}
        {!p.active && v.supersededAt ? (
          <div className="muted small">
            until <Ago iso={v.supersededAt} now={p.now} />
          </div>
        ) : null}
      </td>
      <td>
        {v.cause ? <div>{v.cause.replaceAll("_", " ")}</div> : null}
        {v.reason ? <div className="small">{v.reason}</div> : null}
        {v.restoredFrom !== undefined ? (
          <div className="muted small">weights of v{v.restoredFrom}</div>
        ) : null}
        {v.tiers ? (
          <div className="muted small">
            tiers: hot ≥ {pct(v.tiers.hot)}, warm ≥ {pct(v.tiers.warm)}
            {v.tiers.basis ? ` — ${v.tiers.basis}` : ""}
          </div>
        ) : null}
      </td>
      <td>
        {v.holdout ? (
          <Holdout h={v.holdout} m={v.metrics} />
        ) : !v.metrics && v.restoredFrom !== undefined ? (
          <span className="muted small">no figures of its own — see v{v.restoredFrom}</span>
        ) : (
          <Metrics m={v.metrics} />
        )}
      </td>
      <td>
        {p.active ? (
          <span className="muted small">in use</span>
        ) : (
          <>
            <ConfirmButton
              label={`Roll back to v${v.version}`}
              title={`Roll back the scoring model to version ${v.version}?`}
              confirmLabel="Roll back"
              tone="danger"
              reasonLabel="Reason (optional, kept in the audit log)"
              disabled={!gate.allowed || busy}
              disabledTitle={gate.why ?? "Sending…"}
              onConfirm={(reason) =>
                void cmd.send("/api/commands/model-rollback", {
                  version: v.version,
                  ...(reason ? { reason } : {}),
                })
              }
            >
              <p>
                Scoring makes version {v.version}'s weights the active model
                {v.rejected ? " (a refit that was not promoted)" : " again"}, as a new version, and
                scores every lead with it from then on
                {p.activeVersion !== undefined
                  ? `; version ${p.activeVersion} stops being used`
                  : ""}
                . Scores already given stay as they are, and later refits are judged against the
                restored model.
              </p>
            </ConfirmButton>
            <CommandNote state={cmd.state} />
          </>
        )}
      </td>
    </tr>
  );
}

function Metrics({ m }: { m: ModelMetrics | undefined }) {
  if (!m || m.window === 0)
    return <span className="muted small">no labelled outcome yet — nothing to measure</span>;
  return (
    <dl className="metrics">
      {m.brier !== undefined ? (
        <div>
          <dt>Brier score</dt>
          <dd>{m.brier.toFixed(3)}</dd>
        </div>
      ) : null}
      {m.meanPredicted !== undefined ? (
        <div>
          <dt>Predicted</dt>
          <dd>{pct(m.meanPredicted)} on average</dd>
        </div>
      ) : null}
      {m.observedRate !== undefined ? (
        <div>
          <dt>Observed</dt>
          <dd>{pct(m.observedRate)} positive</dd>
        </div>
      ) : null}
      {m.other.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{Number(value.toPrecision(3))}</dd>
        </div>
      ))}
      <div>
        <dt>Basis</dt>
        <dd>
          {count(m.window)} outcome{m.window === 1 ? "" : "s"}
        </dd>
      </div>
    </dl>
  );
}

const FIGURES: [keyof HoldoutFigures, string, (x: number) => string][] = [
  ["auc", "AUC", (x) => x.toFixed(3)],
  ["logLoss", "Log-loss", (x) => x.toFixed(3)],
  ["ece", "Calibration error", (x) => pct(x)],
];

/** A refit's figures on its holdout, each beside the version it was judged against. */
function Holdout({ h, m }: { h: ModelHoldout; m: ModelMetrics | undefined }) {
  const n = h.candidate.n ?? m?.window;
  return (
    <dl className="metrics">
      {FIGURES.map(([key, label, show]) => {
        const mine = h.candidate[key];
        const theirs = h.previous?.[key];
        return (
          <div key={key}>
            <dt>{label}</dt>
            <dd>
              {mine === undefined ? "—" : show(mine)}
              {theirs !== undefined ? (
                <span className="muted small"> vs {show(theirs)}</span>
              ) : null}
            </dd>
          </div>
        );
      })}
      {m?.meanPredicted !== undefined && m.observedRate !== undefined ? (
        <div>
          <dt>Predicted</dt>
          <dd>
            {pct(m.meanPredicted)} on average, {pct(m.observedRate)} observed
          </dd>
        </div>
      ) : null}
      <div>
        <dt>Basis</dt>
        <dd>
          {n === undefined ? "—" : `${count(n)} recent labelled send${n === 1 ? "" : "s"}`}
          {h.trainedOn !== undefined ? (
            <span className="muted small"> (trained on {count(h.trainedOn)})</span>
          ) : null}
        </dd>
      </div>
    </dl>
  );
}
