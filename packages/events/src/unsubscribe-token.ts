/**
 * One-click unsubscribe tokens (RFC 8058): dispatch puts
 * `<UNSUBSCRIBE_BASE_URL>/unsubscribe/<token>` in every e-mail's `List-Unsubscribe`, and
 * ingest turns one POST to it into an `unsubscribed` outcome. The token names the lead
 * (and the request and channel) and is signed with HMAC-SHA256 under a secret both
 * share (`UNSUBSCRIBE_SECRET`), so nobody can unsubscribe someone else by guessing, and
 * no login is needed. Tokens do not expire: an unsubscribe link must work for as long
 * as the mail sits in an inbox. Several secrets verify while one rotates.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

const Payload = z.object({
  /** lead id */
  l: z.string().min(1).max(200),
  /** request id */
  r: z.string().min(1).max(200).optional(),
  /** channel */
  c: z.string().min(1).max(50).optional(),
  /** issued at, unix seconds */
  t: z.number().int().min(0),
});

export type UnsubscribeClaim = {
  leadId: string;
  requestId?: string | undefined;
  channel?: string | undefined;
  issuedAt: Date;
};

export class UnsubscribeTokenError extends Error {
  override name = "UnsubscribeTokenError";
}

function mac(secret: string, body: string): Buffer {
  return createHmac("sha256", secret).update(`pw-unsubscribe.${body}`).digest();
}

export function signUnsubscribeToken(
  claim: Omit<UnsubscribeClaim, "issuedAt"> & { issuedAt?: Date },
  secret: string,
): string {
  if (!secret) throw new UnsubscribeTokenError("an unsubscribe secret is required");
  const payload = {
    l: claim.leadId,
    ...(claim.requestId ? { r: claim.requestId } : {}),
    ...(claim.channel ? { c: claim.channel } : {}),
    t: Math.floor((claim.issuedAt ?? new Date()).getTime() / 1000),
  };
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${mac(secret, body).toString("base64url")}`;
}

/** The claim of a token signed with one of `secrets`; throws UnsubscribeTokenError otherwise. */
export function verifyUnsubscribeToken(
  token: string,
  secrets: readonly string[],
): UnsubscribeClaim {
  if (token.length > 2048) throw new UnsubscribeTokenError("token too long");
  const [body, sig, extra] = token.split(".");
  if (!body || !sig || extra !== undefined)
    throw new UnsubscribeTokenError("token must be <payload>.<signature>");
  const given = Buffer.from(sig, "base64url");
  const ok = secrets.some((secret) => {
    const want = mac(secret, body);
    return secret.length > 0 && given.length === want.length && timingSafeEqual(given, want);
  });
  if (!ok) throw new UnsubscribeTokenError("signature does not match");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw new UnsubscribeTokenError("payload is not JSON");
  }
  const parsed = Payload.safeParse(json);
  if (!parsed.success) throw new UnsubscribeTokenError("payload has the wrong shape");
  const p = parsed.data;
  return { leadId: p.l, requestId: p.r, channel: p.c, issuedAt: new Date(p.t * 1000) };
}
