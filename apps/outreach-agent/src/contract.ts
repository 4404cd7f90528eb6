/**
 * The outreach agent's HTTP contract (ARCHITECTURE.md, Truefoundry): `POST /v1/dispatch`
 * with `Authorization: Bearer <JWT>` and `Idempotency-Key`, body
 * `{leadId, channel, to, subject, body, metadata}` → `202 {dispatchId, status, …}`.
 * Dispatch calls it through `client.ts` (HTTP) or `core.ts` (in-process); both speak
 * these types.
 */
import { z } from "zod";

export const AgentChannel = z.enum(["email", "linkedin", "slack", "in_app"]);
export type AgentChannel = z.infer<typeof AgentChannel>;

/** What the agent needs beside the message: compliance data and where it came from. */
export const DispatchMetadata = z.looseObject({
  requestId: z.string().min(1).max(200).optional(),
  step: z.number().int().min(0).max(20).optional(),
  variantId: z.string().min(1).max(100).optional(),
  track: z.string().max(50).optional(),
  /** RFC 8058 one-click: the https target (POST) and a mailto fallback. */
  unsubscribe: z
    .object({
      url: z.url().max(2048),
      mailto: z.string().max(320).optional(),
    })
    .optional(),
  /** Footer lines every e-mail carries (the sender's postal address, the unsubscribe line). */
  footer: z
    .object({
      postalAddress: z.string().min(1).max(500),
      unsubscribeText: z.string().min(1).max(500),
    })
    .optional(),
});
export type DispatchMetadata = z.infer<typeof DispatchMetadata>;

export const DispatchRequest = z.object({
  leadId: z.string().min(1).max(200),
  channel: AgentChannel,
  /** E-mail address, Slack channel/user, or the product's user id (in-app). */
  to: z.string().min(1).max(320),
  subject: z.string().max(500),
  body: z.string().min(1).max(20_000),
  metadata: DispatchMetadata.default({}),
});
export type DispatchRequest = z.input<typeof DispatchRequest>;

/** The `Idempotency-Key` header: the send's key (dispatch uses `<requestId>#<step>`). */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces");

/**
 * 202 body. `sent`: the channel took it (`providerMessageId`: the e-mail's Message-ID,
 * Slack's/the product's id or the simulated inbox row); `failed`: refused for good
 * (`reason`), so retrying the same key replays this answer. `replayed`: the key was seen
 * before and nothing was sent this time.
 */
export const DispatchResponse = z.object({
  dispatchId: z.string().min(1).max(200),
  status: z.enum(["sent", "failed"]),
  providerMessageId: z.string().max(300).optional(),
  reason: z.string().max(500).optional(),
  replayed: z.boolean().optional(),
});
export type DispatchResponse = z.infer<typeof DispatchResponse>;

/**
 * Error bodies (any non-202): `{error: {code, message, field?}}`. 400 `invalid_request`
 * (field names what is missing or wrong), 401 `unauthorized`, 409 `in_progress` (the same
 * key is being sent right now: retry later), 422 `idempotency_key_reused` (the key came
 * with another body), 503 `channel_unavailable` with Retry-After (transient: the SMTP
 * server or webhook is down; the key is released so a retry sends).
 */
export const AgentError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  }),
});
export type AgentError = z.infer<typeof AgentError>;

/**
 * What dispatch calls: the HTTP client and the in-process core both implement it.
 * Resolves with the 202 body; throws `AgentTransientError` when a later retry with the
 * same key may succeed (timeouts, 409 in_progress, 429, 5xx, connection refused) and
 * `AgentRejectedError` when it never will (400, 401, 403, 422).
 */
export type AgentPort = {
  dispatch(request: DispatchRequest, idempotencyKey: string): Promise<DispatchResponse>;
  /**
   * Optional (the in-process agent): many dispatches with the semantics of `dispatch` each,
   * in a few statements. Each item resolves to its answer or the error `dispatch` would
   * have thrown.
   */
  dispatchMany?(
    items: { request: DispatchRequest; idempotencyKey: string }[],
  ): Promise<(DispatchResponse | Error)[]>;
  close(): Promise<void>;
};

// Fields are declared, not constructor parameter properties: Node's type stripping (and
// `erasableSyntaxOnly`) refuse the latter.
export class AgentTransientError extends Error {
  override name = "AgentTransientError";
  readonly transient = true;
  /** How long the caller should wait before retrying the same key, when known. */
  readonly retryAfterMs?: number;
  constructor(message: string, retryAfterMs?: number) {
    super(message);
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

export class AgentRejectedError extends Error {
  override name = "AgentRejectedError";
  /** The HTTP status the agent answered (or would answer) with. */
  readonly status: number;
  /** The error body's `code` (`invalid_request`, `unauthorized`, `idempotency_key_reused`…). */
  readonly code?: string;
  /** For `invalid_request`: the field (or header) that is missing or wrong. */
  readonly field?: string;
  constructor(message: string, status: number, code?: string, field?: string) {
    super(message);
    this.status = status;
    if (code !== undefined) this.code = code;
    if (field !== undefined) this.field = field;
  }
}
