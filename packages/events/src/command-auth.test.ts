// Operator commands signed by the gateway (Ed25519 over a canonical form of the
// envelope) and verified by consumers against configured public keys.
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  commandKeyPair,
  commandSigningInput,
  parseCommandPublicKeys,
  signCommand,
  verifyCommand,
} from "./command-auth.ts";
import { envelope } from "./envelope.ts";
import { OperatorCommand } from "./operator-commands.ts";

const gw = commandKeyPair("gw-1");
const keys = new Map([[gw.keyId, gw.publicKey]]);
const now = new Date("2026-11-24T12:00:00Z");
const policy = { keys, now, maxAgeMs: 3_600_000, maxSkewMs: 60_000 };
const kill = (engaged = true) =>
  envelope({
    type: "operator.kill_switch.v1",
    source: "pw://gateway",
    subject: "operator:global",
    time: now.toISOString(),
    data: { engaged, operator: "ops@acme.io" },
  });

describe("operator command signatures", () => {
  it("signs the parsed command and verifies it after a trip through JSON and the topic schema", () => {
    const signed = signCommand(kill(), gw.privateKey, gw.keyId);
    expect(signed.auth).toMatchObject({ alg: "ed25519", keyId: "gw-1" });
    expect(signed.auth?.sig).toMatch(/^[A-Za-z0-9_-]{86}$/);
    const received = OperatorCommand.parse(JSON.parse(JSON.stringify(signed)));
    expect(verifyCommand(received, policy)).toEqual({ ok: true, keyId: "gw-1" });
  });

  it("covers type, id, source, subject, time and data — but not the trace context", () => {
    const signed = signCommand(kill(), gw.privateKey, gw.keyId);
    const tampered = [
      { ...signed, id: "other" },
      { ...signed, source: "pw://attacker" },
      { ...signed, subject: "lead-1" },
      { ...signed, time: new Date(now.getTime() - 1).toISOString() },
      { ...signed, data: { ...signed.data, engaged: false } },
      { ...signed, data: { ...signed.data, reason: "added later" } },
    ];
    for (const t of tampered)
      expect(verifyCommand(t as OperatorCommand, policy)).toMatchObject({
        ok: false,
        reason: "bad_signature",
      });
    const traced = {
      ...signed,
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    };
    expect(verifyCommand(traced, policy).ok).toBe(true);
  });

  it("signs key order away: the canonical form sorts keys at every depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, "x", null], c: true }, u: undefined })).toBe(
      '{"a":{"c":true,"d":[1,"x",null]},"b":1}',
    );
    const a = signCommand(kill(), gw.privateKey, gw.keyId);
    const reverse = (o: object) => Object.fromEntries(Object.entries(o).reverse());
    const reordered = { ...reverse(a), data: reverse(a.data) } as OperatorCommand;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(a));
    expect(commandSigningInput(reordered).equals(commandSigningInput(a))).toBe(true);
  });

  it("refuses with a reason: unsigned, unknown key, unsupported algorithm, malformed, stale, future", () => {
    const signed = signCommand(kill(), gw.privateKey, gw.keyId);
    const cases: [unknown, string][] = [
      [kill(), "unsigned"],
      [signCommand(kill(), commandKeyPair("x").privateKey, "gw-2"), "unknown_key"],
      [{ ...signed, auth: { ...signed.auth, alg: "rs256" } }, "unsupported_alg"],
      [{ ...signed, auth: { ...signed.auth, sig: "!!" } }, "bad_signature"],
      [
        signCommand(
          { ...kill(), time: new Date(now.getTime() - 3_600_001).toISOString() },
          gw.privateKey,
          gw.keyId,
        ),
        "expired",
      ],
      [
        signCommand(
          { ...kill(), time: new Date(now.getTime() + 60_001).toISOString() },
          gw.privateKey,
          gw.keyId,
        ),
        "from_the_future",
      ],
    ];
    for (const [command, reason] of cases)
      expect(verifyCommand(command as OperatorCommand, policy)).toMatchObject({
        ok: false,
        reason,
      });
    expect(verifyCommand(signed, { ...policy, keys: new Map() })).toMatchObject({
      ok: false,
      reason: "no_keys_configured",
    });
  });
});

describe("public keys from configuration", () => {
  it("reads keyId:base64 SPKI, raw 32-byte keys and PEM, comma-separated or as JSON", () => {
    const a = commandKeyPair("a");
    const b = commandKeyPair("b");
    const raw = b.publicKey.export({ format: "jwk" }).x!; // base64url of the 32 raw bytes
    const fromCsv = parseCommandPublicKeys(`a:${a.publicKeyText} , b:${raw}`);
    expect([...fromCsv.keys()]).toEqual(["a", "b"]);
    const signed = signCommand(kill(), b.privateKey, "b");
    expect(verifyCommand(signed, { ...policy, keys: fromCsv }).ok).toBe(true);
    const pem = a.publicKey.export({ format: "pem", type: "spki" }).toString();
    const fromJson = parseCommandPublicKeys(JSON.stringify({ a: pem }));
    expect(
      verifyCommand(signCommand(kill(), a.privateKey, "a"), { ...policy, keys: fromJson }).ok,
    ).toBe(true);
  });

  it("names what is wrong: no key id, a duplicate, not a key, not Ed25519", () => {
    const a = commandKeyPair("a");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 })
      .publicKey.export({ format: "der", type: "spki" })
      .toString("base64");
    expect(() => parseCommandPublicKeys(a.publicKeyText)).toThrow(/keyId:<public key>/);
    expect(() => parseCommandPublicKeys(`a:${a.publicKeyText},a:${a.publicKeyText}`)).toThrow(
      /key id "a" appears twice/,
    );
    expect(() => parseCommandPublicKeys("a:bm90IGEga2V5")).toThrow(/key "a"/);
    expect(() => parseCommandPublicKeys(`r:${rsa}`)).toThrow(/key "r" is rsa, not Ed25519/);
  });
});
