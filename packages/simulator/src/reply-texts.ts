/**
 * What a simulated recipient writes back, per reply intent: texts the engine's built-in
 * classifier (apps/experiments/src/intent.ts, `classifyReply`) reads as that intent —
 * apps/experiments/bench/reply-texts.test.ts holds them to it — so a simulated reply
 * reaches the engine as the real ingest would deliver it (`replyText`) and is judged
 * the way a real one is. Some quote our mail under the reply, with its unsubscribe
 * footer, as mail clients do: the classifier must judge what the lead wrote.
 */
import type { Rng } from "@pw/bandit";
import type { ReplyIntent } from "./world-outcomes.ts";

const QUOTED = `

On Tue, Mar 3, 2026 at 9:02 AM Sam from Pipeline Whisperer <sam@pw.example> wrote:
> Hi Alex, teams like yours cut onboarding time in half with us.
> Worth a 15-minute call next week?
> To unsubscribe from these emails, click here.`;

export const REPLY_TEXTS: Record<ReplyIntent, readonly string[]> = {
  positive: [
    "Sounds interesting — can you send over pricing?",
    `Yes, happy to chat. Thursday afternoon works for me.${QUOTED}`,
    "Tell me more. What would it cost for a team of 40?",
    "Let's talk. Book some time on my calendar whenever suits you.",
  ],
  neutral: [
    "Thanks for reaching out. I've passed this along to our operations lead.",
    `Got it, thanks.${QUOTED}`,
    "Who gave you my address?",
    "Could you remind me which company this is?",
  ],
  objection: [
    "Not interested, thanks.",
    `We already use a vendor for this and are happy with them.${QUOTED}`,
    "No budget for anything like this until next year.",
    "Wrong person — I don't handle purchasing.",
  ],
  out_of_office: [
    "I am out of the office until Monday with limited access to email.",
    `Automatic reply: I'm on annual leave and will respond when I'm back.${QUOTED}`,
    "OOO until the 14th. For urgent matters contact my colleague.",
  ],
  unsubscribe_request: [
    "Please remove me from your list.",
    `Unsubscribe.${QUOTED}`,
    "Stop emailing me.",
    "STOP",
  ],
};

/** A reply text for the intent, chosen by `rng`. */
export function replyText(intent: ReplyIntent, rng: Rng): string {
  const texts = REPLY_TEXTS[intent];
  return texts[Math.floor(rng() * texts.length)]!;
}
