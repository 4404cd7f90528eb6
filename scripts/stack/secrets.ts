/**
 * The stack's secrets, made once into `<state dir>/secrets.env` (mode 600) and reused by
 * every start, so that a webhook sender, a signed-in browser and an unsubscribe link
 * keep working across restarts: the Standard Webhooks secret, the one-click unsubscribe
 * secret ingest and dispatch share, the Ed25519 key pair operator commands are signed
 * with (ADR 0009), the HS256 secret dispatch mints the outreach agent's tokens with, and
 * an admin login for the dashboard. Made with node:crypto alone: root scripts cannot
 * import workspace packages, so the formats are those of `commandKeyPair` (@pw/events)
 * and `hashPassword` (@pw/gateway) — base64 PKCS8 / SPKI DER, `scrypt$N$r$p$salt$key`.
 * Deleting the file rotates everything at the next start.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export type StackSecrets = {
  WEBHOOK_SECRET: string;
  UNSUBSCRIBE_SECRET: string;
  OPERATOR_COMMAND_KEY_ID: string;
  /** base64 PKCS8 DER of an Ed25519 key: the gateway signs commands with it. */
  OPERATOR_COMMAND_PRIVATE_KEY: string;
  /** `keyId:<base64 SPKI DER>`: experiments and dispatch verify with it. */
  OPERATOR_COMMAND_PUBLIC_KEYS: string;
  /** Dispatch mints the agent's bearer tokens with it; the agent verifies them. */
  AGENT_JWT_SECRET: string;
  STACK_OPERATOR_USERNAME: string;
  STACK_OPERATOR_PASSWORD: string;
  /** `user:admin:<scrypt hash of the password>` for GATEWAY_OPERATORS. */
  GATEWAY_OPERATORS: string;
};

const KEYS: (keyof StackSecrets)[] = [
  "WEBHOOK_SECRET",
  "UNSUBSCRIBE_SECRET",
  "OPERATOR_COMMAND_KEY_ID",
  "OPERATOR_COMMAND_PRIVATE_KEY",
  "OPERATOR_COMMAND_PUBLIC_KEYS",
  "AGENT_JWT_SECRET",
  "STACK_OPERATOR_USERNAME",
  "STACK_OPERATOR_PASSWORD",
  "GATEWAY_OPERATORS",
];

/** The gateway's own `hashPassword` (only node:crypto: importable from here by path). */
export { hashPassword } from "../../apps/gateway/src/auth/password.ts";

import { hashPassword } from "../../apps/gateway/src/auth/password.ts";

async function generate(): Promise<StackSecrets> {
  const keyId = `stack-${randomBytes(4).toString("hex")}`;
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const username = "admin";
  // Words a person can type from the terminal; 12 random bytes is ~96 bits.
  const password = randomBytes(12).toString("base64url");
  return {
    WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("base64")}`,
    UNSUBSCRIBE_SECRET: randomBytes(32).toString("base64url"),
    OPERATOR_COMMAND_KEY_ID: keyId,
    OPERATOR_COMMAND_PRIVATE_KEY: privateKey
      .export({ format: "der", type: "pkcs8" })
      .toString("base64"),
    OPERATOR_COMMAND_PUBLIC_KEYS: `${keyId}:${publicKey.export({ format: "der", type: "spki" }).toString("base64")}`,
    AGENT_JWT_SECRET: randomBytes(32).toString("base64url"),
    STACK_OPERATOR_USERNAME: username,
    STACK_OPERATOR_PASSWORD: password,
    GATEWAY_OPERATORS: `${username}:admin:${await hashPassword(password)}`,
  };
}

/** `KEY=value` lines; `#` comments and blank lines ignored (values are never quoted). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const eq = trimmed.indexOf("=");
    if (eq > 0) out[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return out;
}

/**
 * The secrets in `file`, made (and written with mode 600) when the file is missing. A
 * file missing one of them is an error naming it, not a silent regeneration: the person
 * who edited it meant something.
 */
export async function loadOrCreateSecrets(
  file: string,
): Promise<{ secrets: StackSecrets; created: boolean }> {
  if (existsSync(file)) {
    const values = parseEnvFile(readFileSync(file, "utf8"));
    const missing = KEYS.filter((k) => !values[k]);
    if (missing.length > 0)
      throw new Error(
        `${file} lacks ${missing.join(", ")}: restore them, or delete the file to make new secrets (webhook senders and signed-in browsers then need the new ones)`,
      );
    // Permissions may have been loosened by a copy; the file holds keys.
    chmodSync(file, 0o600);
    return { secrets: values as StackSecrets, created: false };
  }
  const secrets = await generate();
  mkdirSync(dirname(file), { recursive: true });
  const text = [
    "# Made by `pnpm stack` and reused by every start. Secret: never commit or share.",
    "# Delete this file to rotate every secret at the next start.",
    ...KEYS.map((k) => `${k}=${secrets[k]}`),
    "",
  ].join("\n");
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secrets, created: true };
}
