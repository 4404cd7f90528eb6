/**
 * What a channel driver is: one channel, one `send` that either returns the provider's id
 * for the message or throws a `DriverError` saying whether a retry could succeed. The core
 * (core.ts) turns that verdict into the idempotency row's fate: sent, failed for good, or
 * released so that a retry with the same key sends.
 */
import type { CheckResult } from "@pw/service";
import type { AgentChannel, DispatchMetadata } from "../contract.ts";

/** One message as a driver sees it: the validated request plus our dispatch id. */
export type OutboundMessage = {
  dispatchId: string;
  leadId: string;
  channel: AgentChannel;
  to: string;
  subject: string;
  body: string;
  metadata: DispatchMetadata;
};

export type ChannelDriver = {
  readonly channel: AgentChannel;
  /** Which implementation: `smtp`, `slack_webhook`, `in_app_webhook`, `simulated`. */
  readonly kind: string;
  send(message: OutboundMessage): Promise<{ providerMessageId: string }>;
  /** Optional: many messages at once (the simulated inbox: one insert); all or nothing. */
  sendMany?(messages: OutboundMessage[]): Promise<{ providerMessageId: string }[]>;
  /** For `/readyz` (never required): can the channel be reached now? */
  check?(): Promise<CheckResult>;
  close?(): Promise<void>;
};

/** A driver's verdict on a failed send. */
export class DriverError extends Error {
  override name = "DriverError";
  /** True: the channel is down or busy, the same message may go through later. */
  readonly transient: boolean;
  /** What the channel asked us to wait (Retry-After), when it said. */
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    transient: boolean,
    options?: { retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.transient = transient;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** The channel is unreachable, timed out, or said "try later" (SMTP 4xx, HTTP 429/5xx). */
export class TransientDriverError extends DriverError {
  override name = "TransientDriverError";
  constructor(message: string, options?: { retryAfterMs?: number; cause?: unknown }) {
    super(message, true, options);
  }
}

/** The channel refused this message for good (SMTP 5xx, HTTP 4xx, a message we will not send). */
export class PermanentDriverError extends DriverError {
  override name = "PermanentDriverError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
  }
}
