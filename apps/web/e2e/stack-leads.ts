/**
 * Leads for the stack test, as the CRM and the website would send them: `@pw/simulator`'s
 * lead generator draws realistic leads from a world's lead model (segment, title, company
 * size, industry, intent signals with their ages, consent); each becomes the Lightfield
 * `contact.created` webhook of its contact, then one `/webhooks/signals` webhook per intent
 * signal, the first carrying the company's facts (Lightfield keeps them on the account,
 * which a contact's webhook does not include). The sender retries as a real one does:
 * the same `webhook-id` on another ingest instance after a connection error, a 5xx or a 429.
 */
import { seededRng } from "@pw/bandit";
import { signed } from "@pw/ingest/sign-request";
import { leadGenerator, type SimLead, type World } from "@pw/simulator";

export type Hook = { path: string; body: string; id: string };

export function drawLeads(world: World, count: number, prefix: string, seed: number): SimLead[] {
  const gen = leadGenerator(world, seededRng(seed), { prefix });
  return Array.from({ length: count }, () => gen.next());
}

/** The webhooks that tell ingest about `lead`, in the order they happen. */
export function webhooksOf(lead: SimLead, now = new Date()): Hook[] {
  const p = lead.profile;
  const at = now.toISOString();
  const contact = {
    type: "contact.created",
    occurredAt: at,
    object: {
      id: lead.recordId,
      createdAt: at,
      updatedAt: at,
      fields: {
        $name: { value: { firstName: p.firstName, lastName: p.lastName }, valueType: "FULL_NAME" },
        $email: { value: [p.email], valueType: "EMAIL" },
        ...(p.title ? { $title: { value: p.title, valueType: "TEXT" } } : {}),
        $address: { value: { country: p.country }, valueType: "ADDRESS" },
        $timezone: { value: p.timezone, valueType: "TEXT" },
        ...(p.consent === undefined
          ? {}
          : { $marketingConsent: { value: p.consent, valueType: "CHECKBOX" } }),
      },
      relationships: {},
    },
  };
  const hooks: Hook[] = [
    { path: "/webhooks/lightfield", body: JSON.stringify(contact), id: `${lead.id}:contact` },
  ];
  lead.signals.forEach((s, n) => {
    const body = {
      type: s.kind,
      occurredAt: new Date(now.getTime() - s.ageDays * 86_400_000).toISOString(),
      leadId: lead.id,
      ...(n === 0
        ? {
            profile: {
              company: p.company,
              domain: p.domain,
              industry: p.industry,
              employees: p.employees,
            },
          }
        : {}),
    };
    hooks.push({
      path: "/webhooks/signals",
      body: JSON.stringify(body),
      id: `${lead.id}:signal:${n}`,
    });
  });
  return hooks;
}

export type Sender = {
  /** Posts every lead's webhooks (a lead's in order, `concurrency` leads at once). */
  send(leads: readonly SimLead[], o?: { onLead?: (done: number) => void }): Promise<void>;
  /** Event ids ingest accepted (one per webhook-id and route; a repeat answers 200 duplicate). */
  accepted: Set<string>;
  /** Answers other than 2xx that were not retried into one, with their bodies. */
  refused: string[];
  /** Attempts that failed and were retried (connection reset by a killed ingest, 503…). */
  retries: number;
};

export function webhookSender(o: {
  ingestUrls: () => string[];
  secret: string;
  concurrency: number;
}): Sender {
  const accepted = new Set<string>();
  const refused: string[] = [];
  let turn = 0;
  const sender: Sender = {
    accepted,
    refused,
    retries: 0,
    async send(leads, opts = {}) {
      let next = 0;
      let done = 0;
      const worker = async () => {
        while (next < leads.length) {
          const lead = leads[next++]!;
          for (const hook of webhooksOf(lead)) await post(hook);
          opts.onLead?.(++done);
        }
      };
      await Promise.all(Array.from({ length: o.concurrency }, worker));
    },
  };
  async function post(hook: Hook): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const urls = o.ingestUrls();
      const base = urls[turn++ % urls.length]!;
      const req = signed(hook.path, hook.body, { secret: o.secret, id: hook.id });
      let status = 0;
      let text = "";
      try {
        const res = await fetch(`${base}${hook.path}`, {
          method: "POST",
          headers: req.headers,
          body: hook.body,
          signal: AbortSignal.timeout(15_000),
        });
        status = res.status;
        text = await res.text();
      } catch (error) {
        text = String((error as Error).cause ?? error);
      }
      // 202 accepted; 200 `duplicate` when an earlier attempt already was (one that a
      // crashed instance took in but never answered): either way, the event is the sender's.
      if (status === 202 || status === 200) {
        accepted.add((JSON.parse(text) as { eventId: string }).eventId);
        return;
      }
      const transient = status === 0 || status === 429 || status >= 500;
      if (!transient || attempt >= 10) {
        refused.push(`${hook.path} ${hook.id}: ${status} ${text.slice(0, 300)}`);
        return;
      }
      sender.retries++;
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
    }
  }
  return sender;
}
