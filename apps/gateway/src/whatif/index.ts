/**
 * `POST /api/experiments/:segment/whatif`: what a candidate experiment setting (another
 * traffic floor, a suppression threshold, uniform traffic, one fixed variant) would have
 * earned on the decisions the engine already made for the segment — off-policy
 * evaluation (@pw/ope, IPS and SNIPS) on the decision log the gateway rebuilds from its
 * own stream (decisions.ts). Too few settled decisions is an answer, not an error.
 */
import type { Db } from "@pw/db";
import {
  type Candidate,
  CandidateSpecError,
  evaluatePublished,
  parseCandidate,
  unsupportedOnPublished,
} from "@pw/ope";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { invalidBody, issuesOf } from "../auth/errors.ts";
import type { Auth } from "../auth/index.ts";
import { parse, SegmentParams } from "../read/query.ts";
import { REWARDS, type Reward, segmentLog, segmentReward } from "./decisions.ts";
import { estimateSentence, type Interval, MIN_DECISIONS, tooFewSentence } from "./sentence.ts";

/** The engine's defaults (apps/experiments config): what a segment that says nothing runs. */
const DEFAULT_REWARD: Reward = "meeting_booked";
const DEFAULT_WINDOW_DAYS = 14;

const share = z.number().min(0).max(1);
const CandidateBody = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("thompson"),
    floor: share.optional(),
    sharpen: z.number().positive().max(20).optional(),
    burnIn: z.number().int().min(0).optional(),
    prior: z.strictObject({ alpha: z.number().positive(), beta: z.number().positive() }).optional(),
  }),
  z.strictObject({
    kind: z.literal("threshold"),
    threshold: z.number().gt(0).lt(1),
    floor: share.optional(),
    sharpen: z.number().positive().max(20).optional(),
    burnIn: z.number().int().min(0).optional(),
    prior: z.strictObject({ alpha: z.number().positive(), beta: z.number().positive() }).optional(),
  }),
  z.strictObject({ kind: z.literal("uniform") }),
  z.strictObject({ kind: z.literal("fixed"), variant: z.string().min(1).max(100) }),
]);

const WhatIfBody = z.strictObject({
  /** A candidate as `pnpm ope --candidate` spells it (`threshold:0.1`), or as an object. */
  candidate: z.union([z.string().min(1).max(200), CandidateBody]),
  /** Which outcome counts; default: what the segment's experiment optimises. */
  reward: z.enum(REWARDS).optional(),
  /** Attribution window; default the engine's 14 days. */
  windowDays: z.number().min(0.01).max(90).optional(),
});

type Body = z.infer<typeof WhatIfBody>;

function candidateOf(c: z.infer<typeof CandidateBody>): Candidate {
  switch (c.kind) {
    case "uniform":
      return { kind: "uniform" };
    case "fixed":
      return { kind: "fixed", variant: c.variant };
    default: {
      const overrides = {
        ...(c.floor !== undefined ? { floor: c.floor } : {}),
        ...(c.sharpen !== undefined ? { sharpen: c.sharpen } : {}),
        ...(c.burnIn !== undefined ? { burnIn: c.burnIn } : {}),
        ...(c.prior ? { prior: c.prior } : {}),
      };
      return c.kind === "threshold"
        ? { kind: "threshold", threshold: c.threshold, overrides }
        : { kind: "thompson", overrides };
    }
  }
}

/** The candidate as `pnpm ope` spells it, for the answer and the sentence. */
export function specOf(c: Candidate): string {
  if (c.kind === "uniform") return "uniform";
  if (c.kind === "fixed") return `fixed:${c.variant}`;
  const o = c.overrides;
  const opts = [
    o.floor !== undefined ? `floor=${o.floor}` : undefined,
    o.sharpen !== undefined ? `sharpen=${o.sharpen}` : undefined,
    o.burnIn !== undefined ? `burnIn=${o.burnIn}` : undefined,
    o.prior ? `prior=${o.prior.alpha}/${o.prior.beta}` : undefined,
  ].filter(Boolean);
  if (c.kind === "threshold") return [`threshold:${c.threshold}`, ...opts].join(",");
  return opts.length > 0 ? `thompson:${opts.join(",")}` : "thompson";
}

/** A candidate from the body, or the 400 issue naming the field. */
function readCandidate(
  body: Body,
): { candidate: Candidate } | { issue: { field: string; message: string } } {
  let candidate: Candidate;
  if (typeof body.candidate === "string") {
    try {
      candidate = parseCandidate(body.candidate);
    } catch (error) {
      if (error instanceof CandidateSpecError)
        return {
          issue: { field: "candidate", message: error.message.replace(/^--candidate /, "") },
        };
      throw error;
    }
  } else candidate = candidateOf(body.candidate);
  const unsupported = unsupportedOnPublished(candidate);
  if (unsupported)
    return {
      issue: {
        field: typeof body.candidate === "string" ? "candidate" : `candidate.${unsupported.field}`,
        message: unsupported.why,
      },
    };
  return { candidate };
}

const clamp = (i: Interval): Interval => [Math.max(0, i[0]), Math.min(1, i[1])];
const rewardOf = (named: string | undefined): Reward | undefined => {
  if (named === "reply" || named === "replied" || named === "positive_reply") return "replied";
  return (REWARDS as readonly string[]).includes(named ?? "") ? (named as Reward) : undefined;
};
const REWARD_LABEL: Record<Reward, string> = {
  replied: "reply",
  meeting_booked: "meeting",
  converted: "conversion",
};

export function registerWhatIfRoute(
  app: FastifyInstance,
  o: { db: Db; guard: Auth["guard"]; retentionMs: number; now?: () => number },
): void {
  const now = o.now ?? Date.now;
  app.post(
    "/api/experiments/:segment/whatif",
    { preHandler: o.guard("viewer") },
    async (req, reply) => {
      const p = parse(SegmentParams, req.params, reply);
      if (!p) return reply;
      const body = WhatIfBody.safeParse(req.body ?? {});
      if (!body.success) return invalidBody(reply, issuesOf(body.error));
      const read = readCandidate(body.data);
      if ("issue" in read) return invalidBody(reply, [read.issue]);
      const spec = specOf(read.candidate);

      const warnings: string[] = [];
      const named = body.data.reward ? undefined : await segmentReward(o.db, p.segment);
      const reward = body.data.reward ?? rewardOf(named) ?? DEFAULT_REWARD;
      if (named === "positive_reply")
        warnings.push(
          "the segment rewards positive replies; the gateway never keeps reply text, so every reply counts here",
        );
      const windowDays = body.data.windowDays ?? DEFAULT_WINDOW_DAYS;
      const retentionHours = Math.round((o.retentionMs / 3_600_000) * 100) / 100;
      const log = await segmentLog(o.db, {
        segment: p.segment,
        reward,
        windowMs: windowDays * 86_400_000,
        now: now(),
      });
      const n = log.settled.length;
      const decisions = { ...log.counts, settled: n };
      const common = { segment: p.segment, candidate: spec, reward, windowDays, n, decisions };

      if (n < MIN_DECISIONS) {
        const rate = n > 0 ? log.settled.filter((d) => d.reward === 1).length / n : null;
        return {
          ...common,
          enough: false,
          estimator: "snips",
          estimate: null,
          interval: null,
          estimators: { ips: null, snips: null },
          effectiveSampleSize: null,
          maxWeight: null,
          baseline: { rate, interval: null },
          sentence: tooFewSentence({
            segment: p.segment,
            n,
            windowDays,
            open: log.counts.open,
            retentionHours,
          }),
          warnings,
        };
      }

      let e: ReturnType<typeof evaluatePublished>;
      try {
        e = evaluatePublished(log.settled, read.candidate);
      } catch (error) {
        if (!(error instanceof CandidateSpecError)) throw error;
        const [field, ...why] = error.message.split(": ");
        return invalidBody(reply, [
          {
            field: typeof body.data.candidate === "string" ? "candidate" : `candidate.${field}`,
            message: why.join(": ") || error.message,
          },
        ]);
      }
      const snips = e.snips === null || e.snipsCi === null ? null : e.snips;
      const snipsInterval = e.snipsCi === null ? null : clamp(e.snipsCi);
      return {
        ...common,
        enough: true,
        estimator: "snips",
        estimate: snips,
        interval: snipsInterval,
        estimators: {
          ips: { estimate: e.ips, interval: clamp(e.ipsCi) },
          snips: snips === null ? null : { estimate: snips, interval: snipsInterval },
        },
        effectiveSampleSize: e.ess,
        maxWeight: e.maxWeight,
        baseline: { rate: e.logged.average, interval: clamp(e.logged.ci) },
        sentence: estimateSentence({
          segment: p.segment,
          candidate: spec,
          n,
          estimate: snips,
          interval: snipsInterval,
          ess: e.ess,
          baseline: e.logged.average,
          rewardLabel: REWARD_LABEL[reward],
        }),
        warnings: [...warnings, ...e.warnings],
      };
    },
  );
}
