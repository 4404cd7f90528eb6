/**
 * Operator passwords: scrypt (Node's `crypto.scrypt`, no dependency) with the parameters
 * stored beside the salt and key (`scrypt$N$r$p$salt$hash`, base64), so a later increase
 * of N still verifies older hashes. Verification compares in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** 2^15 × r 8 = 32 MiB per hash, ~50–100 ms: slow for a guesser, fine for a login. */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 64;
const MAX_N = 2 ** 20;
/** Room for the largest N we accept (scrypt needs 128·N·r bytes; Node's default is 32 MiB). */
const maxmemFor = (N: number, r: number) => 128 * N * r + 16 * 1024 * 1024;

const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

type Parsed = { N: number; r: number; p: number; salt: Buffer; key: Buffer };

function derive(password: string, salt: Buffer, N: number, r: number, p: number, bytes: number) {
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(
      password.normalize("NFKC"),
      salt,
      bytes,
      { N, r, p, maxmem: maxmemFor(N, r) },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

/** Whether `text` is a hash this module can verify (config validation names a bad one). */
export function parsePasswordHash(text: string): Parsed | undefined {
  const m = FORMAT.exec(text);
  if (!m) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX_N || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(m[4]!, "base64");
  const key = Buffer.from(m[5]!, "base64");
  if (salt.length < 16 || key.length < 32) return undefined;
  return { N, r, p, salt, key };
}

export async function hashPassword(password: string): Promise<string> {
  const { N, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, N, r, p, KEY_BYTES);
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** False for a wrong password and for a hash that cannot be read (never throws for those). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.N, parsed.r, parsed.p, parsed.key.length);
  return timingSafeEqual(key, parsed.key);
}
