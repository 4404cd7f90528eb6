/**
 * Authenticated operator commands (ADR 0009). The gateway signs each command with an
 * Ed25519 key (`signCommand`); every consumer verifies it against the public keys it is
 * configured with (`verifyCommand`) and refuses anything unsigned, badly signed, signed
 * by an unknown key, too old or dated too far ahead. The signature covers a canonical
 * serialisation of the parsed command — type, id, source, subject, time and data (so
 * the operator named in it too) — so key order, whitespace and schema defaults cannot
 * change what was signed; the trace context is left out, as tracing rewrites it.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { z } from "zod";
import { OperatorCommand } from "./operator-commands.ts";

export const COMMAND_SIGNATURE_ALG = "ed25519";

/** Domain separation: a signature made for anything else can never verify as a command. */
const DOMAIN = "pw.operator-command.v1\n";
const KEY_ID = /^[A-Za-z0-9._-]{1,100}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ED25519_SIGNATURE_BYTES = 64;

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth and undefined
 * members left out; numbers and strings as `JSON.stringify` writes them. For the values
 * commands hold this is RFC 8785 (JCS), so a producer in another language can match it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("cannot sign a non-finite number");
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value))
        return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
      return `{${members.join(",")}}`;
    }
    default:
      throw new TypeError(`cannot sign a ${typeof value}`);
  }
}

type Signed = Pick<OperatorCommand, "type" | "id" | "source" | "subject" | "time" | "data">;

/** The bytes that are signed: a domain prefix and the canonical command. */
export function commandSigningInput(c: Signed): Buffer {
  const { type, id, source, subject, time, data } = c;
  return Buffer.from(DOMAIN + canonicalJson({ data, id, source, subject, time, type }), "utf8");
}

/**
 * For the gateway (and tests): the command parsed with its topic's schema — so the
 * defaults a consumer will fill in are part of what is signed — with `auth` attached.
 * Publish what it returns.
 */
export function signCommand(
  command: z.input<typeof OperatorCommand>,
  privateKey: KeyObject,
  keyId: string,
): OperatorCommand {
  if (!KEY_ID.test(keyId)) throw new TypeError(`key id must match ${KEY_ID}`);
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new TypeError(
      `operator commands are signed with Ed25519 keys, not ${privateKey.asymmetricKeyType}`,
    );
  const { auth: _previous, ...unsigned } = command;
  const parsed = OperatorCommand.parse(unsigned);
  const sig = sign(null, commandSigningInput(parsed), privateKey).toString("base64url");
  return { ...parsed, auth: { alg: COMMAND_SIGNATURE_ALG, keyId, sig } };
}

export type CommandRefusal =
  | "no_keys_configured"
  | "unsigned"
  | "unsupported_alg"
  | "unknown_key"
  | "bad_signature"
  | "expired"
  | "from_the_future";

export type CommandVerification =
  | { ok: true; keyId: string }
  | { ok: false; reason: CommandRefusal; detail: string };

export type CommandVerifyPolicy = {
  /** keyId → Ed25519 public key; several while keys rotate. Empty: every command is refused. */
  keys: ReadonlyMap<string, KeyObject>;
  now: Date;
  /** Older commands are refused (the inbox dedupes ids only as long as it keeps them). */
  maxAgeMs: number;
  /** How far ahead of this clock a command may be dated. */
  maxSkewMs: number;
};

const refuse = (reason: CommandRefusal, detail: string): CommandVerification => ({
  ok: false,
  reason,
  detail,
});

/** Whether the command was signed by a configured key, unchanged, and recently. */
export function verifyCommand(
  command: OperatorCommand,
  p: CommandVerifyPolicy,
): CommandVerification {
  if (p.keys.size === 0)
    return refuse("no_keys_configured", "no public key is configured to verify commands");
  const { auth } = command;
  if (!auth) return refuse("unsigned", "the command carries no signature");
  if (auth.alg !== COMMAND_SIGNATURE_ALG)
    return refuse("unsupported_alg", `algorithm ${auth.alg} is not accepted (only ed25519)`);
  const key = p.keys.get(auth.keyId);
  if (!key) return refuse("unknown_key", `key ${auth.keyId} is not configured`);
  const sig = BASE64URL.test(auth.sig) ? Buffer.from(auth.sig, "base64url") : Buffer.alloc(0);
  let valid = false;
  if (sig.length === ED25519_SIGNATURE_BYTES) {
    try {
      valid = verify(null, commandSigningInput(command), key, sig);
    } catch {
      valid = false;
    }
  }
  if (!valid)
    return refuse("bad_signature", `the signature does not match the command (key ${auth.keyId})`);
  const age = p.now.getTime() - Date.parse(command.time);
  if (age > p.maxAgeMs)
    return refuse(
      "expired",
      `issued ${Math.round(age / 1000)} s ago; the limit is ${p.maxAgeMs / 1000} s`,
    );
  if (-age > p.maxSkewMs)
    return refuse(
      "from_the_future",
      `dated ${Math.round(-age / 1000)} s ahead; the tolerance is ${p.maxSkewMs / 1000} s`,
    );
  return { ok: true, keyId: auth.keyId };
}

/** A public key given as PEM, base64 SPKI DER, or the raw 32 bytes in base64(url). */
function publicKeyFrom(keyId: string, text: string): KeyObject {
  let key: KeyObject;
  try {
    if (text.includes("-----BEGIN")) key = createPublicKey(text);
    else {
      // Node's base64 decoder reads both alphabets (+/ and -_).
      const der = Buffer.from(text, "base64");
      key =
        der.length === 32
          ? createPublicKey({
              key: { kty: "OKP", crv: "Ed25519", x: der.toString("base64url") },
              format: "jwk",
            })
          : createPublicKey({ key: der, format: "der", type: "spki" });
    }
  } catch {
    throw new Error(
      `key "${keyId}" is not a public key (expected base64 SPKI DER, a raw 32-byte Ed25519 key in base64, or PEM)`,
    );
  }
  if (key.asymmetricKeyType !== "ed25519")
    throw new Error(`key "${keyId}" is ${key.asymmetricKeyType}, not Ed25519`);
  return key;
}

/**
 * The configured public keys: `keyId:<key>[,keyId:<key>…]` or a JSON object
 * `{"keyId": "<key>"}` (for PEM). Throws an Error that says what is wrong.
 */
export function parseCommandPublicKeys(text: string): Map<string, KeyObject> {
  const trimmed = text.trim();
  let entries: [string, unknown][];
  if (trimmed.startsWith("{")) {
    try {
      entries = Object.entries(JSON.parse(trimmed) as Record<string, unknown>);
    } catch {
      throw new Error('not valid JSON (expected {"keyId": "<public key>"})');
    }
  } else {
    entries = trimmed
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((entry) => {
        const colon = entry.indexOf(":");
        if (colon <= 0)
          throw new Error("each entry must be keyId:<public key>, entries separated by commas");
        return [entry.slice(0, colon).trim(), entry.slice(colon + 1).trim()];
      });
  }
  const keys = new Map<string, KeyObject>();
  for (const [keyId, value] of entries) {
    if (!KEY_ID.test(keyId))
      throw new Error(`key id "${keyId.slice(0, 100)}" may contain only letters, digits, . _ -`);
    if (keys.has(keyId)) throw new Error(`key id "${keyId}" appears twice`);
    if (typeof value !== "string" || !value) throw new Error(`key "${keyId}" is empty`);
    keys.set(keyId, publicKeyFrom(keyId, value));
  }
  if (keys.size === 0) throw new Error("no key given");
  return keys;
}

/** The configuration value for these keys (`keyId:<base64 SPKI DER>`, comma-separated). */
export function formatCommandPublicKeys(keys: { keyId: string; publicKey: KeyObject }[]): string {
  return keys
    .map(
      (k) => `${k.keyId}:${k.publicKey.export({ format: "der", type: "spki" }).toString("base64")}`,
    )
    .join(",");
}

/** A fresh signing key pair (tests, and a gateway setting up its first key). */
export function commandKeyPair(keyId: string) {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    keyId,
    privateKey,
    publicKey,
    /** base64 SPKI DER: what goes after `keyId:` in OPERATOR_COMMAND_PUBLIC_KEYS. */
    publicKeyText: publicKey.export({ format: "der", type: "spki" }).toString("base64"),
  };
}

/**
 * The `OPERATOR_COMMAND_PUBLIC_KEYS` variable as every consuming service parses it:
 * `keyId:<base64 SPKI Ed25519 key>`, comma-separated while keys rotate (or a JSON object
 * keyId → PEM). Unset: no keys, so every command is refused.
 */
export const CommandPublicKeysVar = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined) return new Map<string, KeyObject>();
    try {
      return parseCommandPublicKeys(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });

export const OPERATOR_COMMAND_DEFAULTS = { maxAgeMs: 86_400_000, maxSkewMs: 300_000 } as const;

/**
 * The variables of every service that obeys operator commands, parsed the same way.
 * OPERATOR_COMMAND_MAX_AGE_MS: older commands are refused; the inbox stops a replayed id
 * only while it remembers it, so it may not exceed INBOX_RETENTION_DAYS (see
 * `commandAgeWithinInbox`). Default one day: a command sent while the service was down
 * still applies when it comes back. OPERATOR_COMMAND_MAX_SKEW_MS: how far ahead of this
 * clock a command may be dated.
 */
export const OperatorCommandVars = {
  OPERATOR_COMMAND_PUBLIC_KEYS: CommandPublicKeysVar,
  OPERATOR_COMMAND_MAX_AGE_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(OPERATOR_COMMAND_DEFAULTS.maxAgeMs),
  OPERATOR_COMMAND_MAX_SKEW_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(OPERATOR_COMMAND_DEFAULTS.maxSkewMs),
};

/** What a service's config holds of them. */
export function operatorCommandSettings(e: {
  OPERATOR_COMMAND_PUBLIC_KEYS: Map<string, KeyObject>;
  OPERATOR_COMMAND_MAX_AGE_MS: number;
  OPERATOR_COMMAND_MAX_SKEW_MS: number;
}) {
  return {
    keys: e.OPERATOR_COMMAND_PUBLIC_KEYS,
    maxAgeMs: e.OPERATOR_COMMAND_MAX_AGE_MS,
    maxSkewMs: e.OPERATOR_COMMAND_MAX_SKEW_MS,
  };
}

/**
 * A config's superRefine step: a command older than the inbox's memory could be replayed,
 * so OPERATOR_COMMAND_MAX_AGE_MS may not exceed the inbox retention. Runs after the parts;
 * when one failed there is nothing to compare.
 */
export function commandAgeWithinInbox(
  c: {
    operatorCommands?: { maxAgeMs: number } | undefined;
    housekeeping?: { inboxRetentionMs: number } | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (!c.operatorCommands || !c.housekeeping) return;
  if (c.operatorCommands.maxAgeMs > c.housekeeping.inboxRetentionMs)
    ctx.addIssue({
      code: "custom",
      path: ["OPERATOR_COMMAND_MAX_AGE_MS"],
      message: `must not exceed INBOX_RETENTION_DAYS (${c.housekeeping.inboxRetentionMs} ms): a command older than the inbox's memory could be replayed`,
    });
}
