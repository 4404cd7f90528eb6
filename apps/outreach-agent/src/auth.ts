/**
 * Bearer JWT verification for the agent's HTTP routes (jose). Keys, any of them:
 * - a JWKS URL — what Truefoundry's `jwt_auth` integration or any OIDC IdP publishes;
 * - one public key (PEM or JWK);
 * - an HS256 secret shared with dispatch (which mints short-lived tokens with it).
 * The token's `alg` picks the key kind, and each kind accepts only its own algorithms, so
 * a token cannot choose how it is checked. `exp` is required; `iss` and `aud` are checked
 * when configured. A JWKS that cannot be fetched is not the caller's fault: `unavailable`
 * (503), never a 401 that would make dispatch give up on a message.
 */
import type { KeyObject } from "node:crypto";
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from "jose";
import type { AuthSettings } from "./config.ts";

export type AuthVerdict =
  | { ok: true; claims: JWTPayload | undefined }
  /** `missing`: no bearer token; `invalid`: a token we refuse; `unavailable`: keys unreachable. */
  | { ok: false; error: "missing" | "invalid" | "unavailable"; description: string };

export type TokenVerifier = {
  readonly mode: "required" | "none";
  /** At least one key to verify with (with `required` and none, every request is refused). */
  readonly configured: boolean;
  verify(authorization: string | undefined): Promise<AuthVerdict>;
};

const HMAC = ["HS256"];
const RSA = ["RS256", "RS384", "RS512"];
const RSA_PSS = ["PS256", "PS384", "PS512"];
const EC = ["ES256", "ES384", "ES512"];
const OKP = ["EdDSA", "Ed25519"];
const ASYMMETRIC = [...RSA, ...RSA_PSS, ...EC, ...OKP];

/** The algorithms a public key can verify: never a symmetric one (no alg confusion). */
function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return [...RSA, ...RSA_PSS];
    case "rsa-pss":
      return RSA_PSS;
    case "ec":
      return EC;
    case "ed25519":
      return OKP;
    default:
      return [];
  }
}

type Candidate = {
  name: string;
  algorithms: string[];
  // biome-ignore lint/suspicious/noExplicitAny: jose's key argument is a union of overloads
  key: any;
};

/** The 401 description of a failed verification, or `unavailable` for an unreachable JWKS. */
function describe(error: unknown): { unavailable: boolean; description: string } {
  if (error instanceof errors.JWTExpired)
    return { unavailable: false, description: "token expired" };
  if (error instanceof errors.JWTClaimValidationFailed)
    return {
      unavailable: false,
      description:
        error.claim === "iss" || error.claim === "aud"
          ? `wrong ${error.claim === "iss" ? "issuer" : "audience"}`
          : `claim ${error.claim} ${error.reason === "missing" ? "missing" : "invalid"}`,
    };
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return { unavailable: false, description: "signature does not verify" };
  if (error instanceof errors.JWKSNoMatchingKey)
    return { unavailable: false, description: "no key of the JWKS matches the token" };
  if (error instanceof errors.JOSEAlgNotAllowed)
    return { unavailable: false, description: "algorithm not accepted" };
  if (error instanceof errors.JWKSTimeout)
    return { unavailable: true, description: "the JWKS did not answer in time" };
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid)
    return { unavailable: false, description: "malformed token" };
  if (error instanceof errors.JOSEError) {
    // Fetching or parsing the JWKS itself failed: the key source is broken, not the token.
    if (/JSON Web Key Set/.test(error.message))
      return { unavailable: true, description: "the JWKS could not be fetched" };
    return { unavailable: false, description: error.code.toLowerCase().replace(/^err_/, "") };
  }
  // fetch() of the JWKS: connection refused, DNS… (jose passes those through).
  return { unavailable: true, description: "the JWKS could not be fetched" };
}

export function createTokenVerifier(settings: AuthSettings): TokenVerifier {
  const symmetric: Candidate[] = settings.secret
    ? [{ name: "secret", algorithms: HMAC, key: new TextEncoder().encode(settings.secret) }]
    : [];
  const asymmetric: Candidate[] = [];
  if (settings.jwksUrl)
    asymmetric.push({
      name: "jwks",
      algorithms: ASYMMETRIC,
      key: createRemoteJWKSet(new URL(settings.jwksUrl), {
        timeoutDuration: 5_000,
        cooldownDuration: 30_000,
        cacheMaxAge: 600_000,
      }),
    });
  if (settings.publicKey)
    asymmetric.push({
      name: "public_key",
      algorithms: algorithmsFor(settings.publicKey),
      key: settings.publicKey,
    });
  const options: JWTVerifyOptions = {
    requiredClaims: ["exp"],
    clockTolerance: 30,
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.audience ? { audience: settings.audience } : {}),
  };

  return {
    mode: settings.mode,
    configured: symmetric.length + asymmetric.length > 0,
    async verify(authorization) {
      if (settings.mode === "none") return { ok: true, claims: undefined };
      const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(authorization ?? "");
      if (!match)
        return authorization
          ? { ok: false, error: "invalid", description: "Authorization is not a Bearer token" }
          : { ok: false, error: "missing", description: "a Bearer token is required" };
      const token = match[1]!;
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        return { ok: false, error: "invalid", description: "malformed token" };
      }
      const candidates = (alg?.startsWith("HS") ? symmetric : asymmetric).filter((c) =>
        c.algorithms.includes(alg ?? ""),
      );
      if (candidates.length === 0)
        return {
          ok: false,
          error: "invalid",
          description: `no key accepts ${alg ?? "this"} tokens`,
        };
      let last: { unavailable: boolean; description: string } | undefined;
      for (const candidate of candidates) {
        try {
          const { payload } = await jwtVerify(token, candidate.key, {
            ...options,
            algorithms: candidate.algorithms,
          });
          return { ok: true, claims: payload };
        } catch (error) {
          last = describe(error);
          // The signature verified and a claim failed: no other key changes that.
          if (
            error instanceof errors.JWTExpired ||
            error instanceof errors.JWTClaimValidationFailed
          )
            break;
        }
      }
      return {
        ok: false,
        error: last?.unavailable ? "unavailable" : "invalid",
        description: last?.description ?? "token refused",
      };
    },
  };
}

/** What the operator should hear at start about the auth setup (least privilege). */
export function authWarnings(settings: AuthSettings, verifier: TokenVerifier): string[] {
  if (settings.mode === "none")
    return [
      "AGENT_AUTH=none: /v1/dispatch and /v1/inbox accept requests from ANYONE who can reach this port — they can send e-mail and messages in your name. `none` is meant for the in-process agent of the embedded demo only; set AGENT_AUTH=required and a verification key (AGENT_JWT_JWKS_URL, AGENT_JWT_PUBLIC_KEY or AGENT_JWT_SECRET).",
    ];
  const out: string[] = [];
  if (!verifier.configured)
    out.push(
      "AGENT_AUTH=required but no verification key is set: every request is refused with 401. Set AGENT_JWT_JWKS_URL (the JWKS of Truefoundry's jwt_auth integration or your IdP), AGENT_JWT_PUBLIC_KEY (PEM or JWK) or AGENT_JWT_SECRET (HS256, shared with dispatch's TRUEFOUNDRY_AGENT_JWT_SECRET), and preferably AGENT_JWT_ISSUER and AGENT_JWT_AUDIENCE.",
    );
  else if (settings.jwksUrl && !settings.audience)
    out.push(
      "AGENT_JWT_AUDIENCE is not set: any unexpired token signed by the JWKS's keys is accepted, including tokens the IdP issued for other applications. Set it to the audience dispatch's tokens carry.",
    );
  return out;
}
