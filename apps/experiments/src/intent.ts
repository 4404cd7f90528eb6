/**
 * Reply intent: positive / neutral / objection / out_of_office /
 * unsubscribe_request. `createIntentClassifier` asks the stackAI intent flow
 * when one is configured and falls back to the built-in rules (`classifyReply`)
 * on any failure, recording why. Quoted history and signatures are stripped
 * first: a reply must be judged by what the lead wrote, not by our own email
 * quoted under it. The reply text is personal data: it is sent only to the
 * flow and never logged.
 */
import type { Logger } from "@pw/logger";
import { reasonOf, type StackAiClient } from "@pw/stackai";
import { countMetric } from "@pw/telemetry";
import { z } from "zod";

export const REPLY_INTENTS = [
  "positive",
  "neutral",
  "objection",
  "out_of_office",
  "unsubscribe_request",
] as const;
export const ReplyIntent = z.enum(REPLY_INTENTS);
export type ReplyIntent = z.infer<typeof ReplyIntent>;

/** What the stackAI intent flow must answer in `out-0`. */
export const IntentFlowOutput = z.object({
  intent: ReplyIntent,
  confidence: z.number().min(0).max(1).optional(),
});
export type IntentFlowOutput = z.infer<typeof IntentFlowOutput>;

/** Order matters: an auto-reply or an opt-out request wins over polite words in it. */
const RULES: [ReplyIntent, RegExp][] = [
  [
    "out_of_office",
    /\b(out of (the )?office|ooo|on (annual |parental |sick |maternity |paternity )?leave|away until|vacation|limited access to (my )?email|auto(matic)?[- ]?reply)\b/i,
  ],
  [
    "unsubscribe_request",
    /\b(unsubscribe|remove me|take me off|stop (emailing|contacting|sending|messaging)|do not (email|contact)|don'?t (email|contact) me|opt(ed)? (me )?out|no more emails)\b|^\W*stop\W*$/i,
  ],
  [
    "objection",
    /\b(not interested|no thanks|no thank you|not a (good )?fit|already (use|have|using|work with)|no budget|not (right )?now|too expensive|wrong person|not the right person|no longer (with|at|work))\b/i,
  ],
  [
    "positive",
    /\b(interested|sounds (good|great|interesting)|let'?s (talk|chat|meet|do it)|book (a|some) time|set up a (call|meeting|demo)|happy to (chat|talk|meet)|send (me |over |us )?(more|details|the deck|pricing|a quote)|tell me more|yes\b|when are you free|calendar|how much|what (does|would) it cost)/i,
  ],
];

/** Where the quoted history starts: "On … wrote:" (a few languages), Outlook headers, forwards. */
const QUOTE_HEADERS = [
  // At most two lines ("On Tue, … Sam <sam@x.io>\nwrote:"), so it never swallows the reply.
  /^(On|Le|Am|El)\s[^\n]{0,300}?(\n[^\n]{0,300}?)?(wrote|a écrit|schrieb|escribió)\s*:[ \t]*$/im,
  /^-{2,}\s*(Original|Forwarded) Message\s*-{2,}/im,
  /^From:[^\n]*\n(?:[^\n]*\n){0,3}?(Sent|Date):/im,
];
/** Where the signature starts: the `-- ` delimiter or a mobile footer. */
const SIGNATURE = [/^--\s*$/m, /^Sent from my \w+/im, /^Get Outlook for \w+/im];

/** The part of a reply the lead wrote: quoted history, `>` lines and the signature removed. */
export function stripQuoted(text: string): string {
  let t = text.replace(/\r\n?/g, "\n");
  for (const re of [...QUOTE_HEADERS, ...SIGNATURE]) {
    const m = re.exec(t);
    if (m) t = t.slice(0, m.index);
  }
  return t
    .split("\n")
    .filter((line) => !/^\s*>/.test(line))
    .join("\n")
    .trim();
}

/** The built-in rules: the fallback when no model is configured or it fails. */
export function classifyReply(text: string | undefined): ReplyIntent {
  const own = text ? stripQuoted(text) : "";
  if (!own) return "neutral";
  for (const [intent, re] of RULES) if (re.test(own)) return intent;
  return "neutral";
}

export type IntentResult = {
  intent: ReplyIntent;
  classifier: "stackai" | "rules";
  /** The flow's own confidence (0–1), when it gave one. */
  confidence?: number;
  /** Why the flow's answer was not used (a StackAiError reason, `empty_reply`, `opt_out_rule`). */
  fallbackReason?: string;
};

export type IntentClassifierDeps = {
  /** A client bound to the intent flow; without one the rules classify. */
  stackai?: StackAiClient;
  logger?: Logger;
};

/** The flow sees at most this much of the lead's own text. */
const MAX_INPUT_CHARS = 4_000;

export function createIntentClassifier(deps: IntentClassifierDeps = {}) {
  const rules = (intent: ReplyIntent, fallbackReason?: string): IntentResult =>
    fallbackReason
      ? { intent, classifier: "rules", fallbackReason }
      : { intent, classifier: "rules" };

  return {
    /** Never throws. `leadId` is the flow's `user_id` when known. */
    async classify(
      text: string | undefined,
      context: { leadId?: string } = {},
    ): Promise<IntentResult> {
      const own = text ? stripQuoted(text) : "";
      const byRules = classifyReply(own);
      if (!deps.stackai) return rules(byRules);
      if (!own) return rules(byRules, "empty_reply");
      // An opt-out the rules can see is honoured as is: a model must not talk us out of it.
      if (byRules === "unsubscribe_request") return rules(byRules, "opt_out_rule");
      try {
        const out = await deps.stackai.run(
          context.leadId ?? "reply-intent",
          { text: own.slice(0, MAX_INPUT_CHARS) },
          IntentFlowOutput,
        );
        const result: IntentResult = { intent: out.intent, classifier: "stackai" };
        if (out.confidence !== undefined) result.confidence = out.confidence;
        return result;
      } catch (error) {
        const reason = reasonOf(error);
        // Only the reason: the error message may echo the reply back from the vendor.
        deps.logger?.warn(
          { leadId: context.leadId, reason },
          "stackAI intent unavailable; using the rules",
        );
        countMetric("pw.vendor_fallbacks", 1, { vendor: "stackai_intent", reason });
        return rules(byRules, reason);
      }
    },
  };
}
