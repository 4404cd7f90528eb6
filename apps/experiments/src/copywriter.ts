/**
 * The copywriter: turns the chosen variant into the lead's email. The template
 * is always rendered from the lead's facts first — it is both the fallback and
 * the draft the stackAI rewrite flow starts from. A rewrite is used only if it
 * passes cheap safety checks (lengths, no unfilled slot or "undefined", no
 * email address or URL that the draft and facts do not already contain);
 * anything else — error, timeout, open breaker, unsafe output — sends the
 * template and records why. `write` never throws.
 */
import type { PersonalisationFacts } from "@pw/events";
import type { Logger } from "@pw/logger";
import { reasonOf, type StackAiClient } from "@pw/stackai";
import { countMetric } from "@pw/telemetry";
import { z } from "zod";
import { render, type Variant } from "./playbook.ts";

export const SUBJECT_MAX = 200;
export const BODY_MAX = 5_000;

/** What the stackAI rewrite flow must answer in `out-0`. */
export const RewriteFlowOutput = z.object({
  subject: z.string().trim().min(1).max(SUBJECT_MAX),
  body: z.string().trim().min(1).max(BODY_MAX),
});
export type RewriteFlowOutput = z.infer<typeof RewriteFlowOutput>;

export type CopyRequest = {
  leadId: string;
  variant: Pick<Variant, "variantId" | "angle" | "subjectTemplate" | "bodyTemplate">;
  facts: PersonalisationFacts;
};

export type Copy = {
  subject: string;
  body: string;
  writer: "stackai" | "template";
  /** Why the rewrite was not used: a StackAiError reason or `unsafe_output:<check>`. */
  fallbackReason?: string;
};

export type CopywriterDeps = {
  /** A client bound to the rewrite flow; without one the template is the copy. */
  stackai?: StackAiClient;
  logger?: Logger;
};

// The flow's answer is vendor input, so these run over hostile text: each match may only
// start where a run of its characters starts (the lookbehinds), which keeps a scan of a
// long run linear — without them one 5 000-character run cost 30–140 ms of event loop.
const EMAIL = /(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
const URL_LIKE =
  /\b(?:https?:\/\/[^\s<>"')\]]+|www\.[^\s<>"')\]]+|(?<![a-z0-9.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|io|ai|co|net|org|app|dev|so|xyz|me|us|uk|de|fr|eu|biz|info|link|ly|gg|to|sh)(?:\/[^\s<>"')\]]*)?)/gi;
const TRAILING_PUNCTUATION = /[.,;:!?]+$/;

/**
 * The first safety check the rewrite fails, or undefined when it is safe to
 * send. `known` is the draft and facts: whatever they contain the flow may repeat.
 */
export function unsafeRewrite(rewrite: RewriteFlowOutput, known: string): string | undefined {
  const text = `${rewrite.subject}\n${rewrite.body}`;
  const haystack = known.toLowerCase();
  if (/[\r\n]/.test(rewrite.subject)) return "multiline_subject";
  if (/\{\{|\}\}/.test(text)) return "unfilled_slot";
  for (const word of text.match(/\b(undefined|null|NaN)\b/gi) ?? [])
    if (!haystack.includes(word.toLowerCase())) return "placeholder_text";
  const emails = text.match(EMAIL) ?? [];
  for (const email of emails)
    if (!haystack.includes(email.replace(TRAILING_PUNCTUATION, "").toLowerCase()))
      return "invented_email";
  // Email addresses were checked above; their domains are not URLs of their own.
  const withoutEmails = emails.reduce((t, e) => t.replace(e, " "), text);
  for (const url of withoutEmails.match(URL_LIKE) ?? [])
    if (!haystack.includes(url.replace(TRAILING_PUNCTUATION, "").toLowerCase()))
      return "invented_url";
  return undefined;
}

export function createCopywriter(deps: CopywriterDeps = {}) {
  return {
    async write({ leadId, variant, facts }: CopyRequest): Promise<Copy> {
      const draft = {
        subject: render(variant.subjectTemplate, facts),
        body: render(variant.bodyTemplate, facts),
      };
      if (!deps.stackai) return { ...draft, writer: "template" };
      const fallback = (reason: string): Copy => {
        deps.logger?.warn(
          { leadId, variantId: variant.variantId, reason },
          "stackAI rewrite not used; sending the template",
        );
        countMetric("pw.vendor_fallbacks", 1, {
          vendor: "stackai_rewrite",
          reason: reason.split(":")[0],
        });
        return { ...draft, writer: "template", fallbackReason: reason };
      };
      try {
        // The address is not needed to write the copy: it stays with us.
        const { email: _email, ...shared } = facts;
        const rewrite = await deps.stackai.run(
          leadId,
          {
            angle: variant.angle,
            variantId: variant.variantId,
            facts: shared,
            draft,
            limits: { subjectMaxChars: SUBJECT_MAX, bodyMaxChars: BODY_MAX },
          },
          RewriteFlowOutput,
        );
        const known = [draft.subject, draft.body, ...Object.values(facts)].join("\n");
        const unsafe = unsafeRewrite(rewrite, known);
        if (unsafe) return fallback(`unsafe_output:${unsafe}`);
        return { subject: rewrite.subject, body: rewrite.body, writer: "stackai" };
      } catch (error) {
        return fallback(reasonOf(error));
      }
    },
  };
}
