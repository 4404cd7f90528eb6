export type Variant = {
  variantId: string;
  channel: "email" | "linkedin" | "slack" | "in_app";
  angle: string;
  subjectTemplate: string;
  bodyTemplate: string;
  cadenceStep: number;
  delayDays?: number;
  parentVariantId?: string | null;
  track?: "experiment" | "nurture";
};

export const NURTURE_VARIANT = "nurture_digest";

export const DEFAULT_PLAYBOOK: Variant[] = [
  {
    variantId: "pain_point",
    channel: "email",
    angle: "pain_point",
    subjectTemplate: "{{company}} and {{painPoint}}",
    bodyTemplate:
      "Hi {{firstName}},\n\nTeams like {{company}} tell us {{painPoint}} costs them most. We fix exactly that — worth 15 minutes?",
    cadenceStep: 0,
  },
  {
    variantId: "social_proof",
    channel: "email",
    angle: "social_proof",
    subjectTemplate: "How teams like {{company}} grew pipeline",
    bodyTemplate:
      "Hi {{firstName}},\n\n300+ {{industry}} teams run their follow-up on us. Happy to show you how the best of them do it.",
    cadenceStep: 0,
  },
  {
    variantId: "roi",
    channel: "email",
    angle: "roi",
    subjectTemplate: "A 3× return for {{company}}?",
    bodyTemplate:
      "Hi {{firstName}},\n\nCustomers see 3× pipeline per rep within a quarter. Since you {{trigger}}, here is the math for {{company}}.",
    cadenceStep: 0,
  },
  {
    variantId: "short_question",
    channel: "email",
    angle: "short_question",
    subjectTemplate: "Quick question, {{firstName}}",
    bodyTemplate: "Hi {{firstName}} — who owns follow-up speed at {{company}}?",
    cadenceStep: 0,
  },
  {
    variantId: "case_study",
    channel: "email",
    angle: "case_study",
    subjectTemplate: "Case study: {{industry}} team, 40% faster to close",
    bodyTemplate:
      "Hi {{firstName}},\n\nA {{industry}} team like yours cut time-to-close by 40%. Two-page case study attached; want the walkthrough?",
    cadenceStep: 0,
  },
  {
    variantId: "follow_up_bump",
    channel: "email",
    angle: "bump",
    subjectTemplate: "Re: {{company}}",
    bodyTemplate:
      "Hi {{firstName}}, floating this back up in case it got buried. Worth a short call this week?",
    cadenceStep: 1,
    delayDays: 3,
  },
  {
    variantId: "follow_up_breakup",
    channel: "email",
    angle: "breakup",
    subjectTemplate: "Should I close the loop, {{firstName}}?",
    bodyTemplate:
      "Hi {{firstName}}, I have not heard back, so I will assume the timing is off for {{company}}. If that changes, just reply to this thread.",
    cadenceStep: 2,
    delayDays: 7,
  },
  {
    variantId: NURTURE_VARIANT,
    channel: "email",
    angle: "nurture",
    subjectTemplate: "What {{industry}} teams learned about follow-up this month",
    bodyTemplate:
      "Hi {{firstName}},\n\nA short monthly read: three things the fastest {{industry}} sales teams changed this month. No pitch — reply any time if you want to talk.",
    cadenceStep: 0,
    track: "nurture",
  },
];

export {
  render,
  TEMPLATE_SLOTS,
  TemplateError,
  templateProblem,
} from "@pw/events";
