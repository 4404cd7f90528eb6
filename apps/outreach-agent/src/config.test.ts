// The agent's environment: defaults, and an error that names each bad variable.
import { generateKeyPairSync } from "node:crypto";
import { ConfigError } from "@pw/config";
import { describe, expect, it } from "vitest";
import { agentConfig } from "./config.ts";

function problems(env: Record<string, string>): string[] {
  try {
    agentConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => i.variable);
    throw error;
  }
  return [];
}

describe("agentConfig", () => {
  it("defaults: port 4500, auth required, unconfigured channels refused", () => {
    const config = agentConfig({});
    expect(config.port).toBe(4500);
    expect(config.auth.mode).toBe("required");
    expect(config.channels.unconfigured).toBe("fail");
    expect(config.channels.smtp).toBeUndefined();
    expect(config.sendingStaleMs).toBe(600_000);
  });

  it("SMTP: smtps is TLS on 465; smtp to another host requires STARTTLS; loopback does not", () => {
    const tls = agentConfig({
      SMTP_URL: "smtps://u%40x:p%3Aw@mail.acme.com",
      SMTP_FROM: "a@acme.com",
    });
    expect(tls.channels.smtp).toMatchObject({
      host: "mail.acme.com",
      port: 465,
      secure: true,
      requireTLS: false,
      auth: { user: "u@x", pass: "p:w" },
      messageIdDomain: "acme.com",
    });
    const starttls = agentConfig({
      SMTP_URL: "smtp://mail.acme.com",
      SMTP_FROM: "Acme <hi@acme.com>",
    });
    expect(starttls.channels.smtp).toMatchObject({ port: 587, secure: false, requireTLS: true });
    const local = agentConfig({ SMTP_URL: "smtp://127.0.0.1:2525", SMTP_FROM: "hi@acme.com" });
    expect(local.channels.smtp).toMatchObject({ port: 2525, requireTLS: false });
  });

  it("names each bad variable", () => {
    expect(problems({ SMTP_URL: "smtp://mail.acme.com" })).toEqual(["SMTP_FROM"]);
    expect(problems({ SMTP_URL: "https://mail.acme.com", SMTP_FROM: "a@acme.com" })).toEqual([
      "SMTP_URL",
    ]);
    expect(problems({ SMTP_FROM: "no address" })).toEqual(["SMTP_FROM"]);
    expect(problems({ SLACK_WEBHOOK_URL: "http://hooks.slack.com/services/x" })).toEqual([
      "SLACK_WEBHOOK_URL",
    ]);
    expect(problems({ IN_APP_WEBHOOK_URL: "https://user:pw@app.acme.com/hook" })).toEqual([
      "IN_APP_WEBHOOK_URL",
    ]);
    expect(problems({ AGENT_JWT_JWKS_URL: "http://idp.acme.com/jwks" })).toEqual([
      "AGENT_JWT_JWKS_URL",
    ]);
    expect(problems({ AGENT_JWT_SECRET: "too-short" })).toEqual(["AGENT_JWT_SECRET"]);
    expect(problems({ AGENT_JWT_PUBLIC_KEY: "garbage" })).toEqual(["AGENT_JWT_PUBLIC_KEY"]);
    expect(problems({ AGENT_AUTH: "maybe" })).toEqual(["AGENT_AUTH"]);
    expect(problems({ AGENT_UNCONFIGURED_CHANNELS: "pretend" })).toEqual([
      "AGENT_UNCONFIGURED_CHANNELS",
    ]);
    expect(problems({ IN_APP_WEBHOOK_TOKEN: "t" })).toEqual(["IN_APP_WEBHOOK_TOKEN"]);
  });

  it("http:// vendor URLs only on loopback and only with ALLOW_INSECURE_VENDOR_URLS=1", () => {
    expect(problems({ SLACK_WEBHOOK_URL: "http://127.0.0.1:9/hook" })).toEqual([
      "SLACK_WEBHOOK_URL",
    ]);
    expect(
      problems({ SLACK_WEBHOOK_URL: "http://127.0.0.1:9/hook", ALLOW_INSECURE_VENDOR_URLS: "1" }),
    ).toEqual([]);
  });

  it("AGENT_JWT_PUBLIC_KEY: a PEM (also with literal \\n) or a public JWK; never a private key", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(agentConfig({ AGENT_JWT_PUBLIC_KEY: pem }).auth.publicKey?.asymmetricKeyType).toBe(
      "ed25519",
    );
    expect(
      agentConfig({ AGENT_JWT_PUBLIC_KEY: pem.replaceAll("\n", "\\n") }).auth.publicKey,
    ).toBeDefined();
    const jwk = JSON.stringify(publicKey.export({ format: "jwk" }));
    expect(agentConfig({ AGENT_JWT_PUBLIC_KEY: jwk }).auth.publicKey).toBeDefined();
    const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(problems({ AGENT_JWT_PUBLIC_KEY: privatePem })).toEqual(["AGENT_JWT_PUBLIC_KEY"]);
    const privateJwk = JSON.stringify(privateKey.export({ format: "jwk" }));
    expect(problems({ AGENT_JWT_PUBLIC_KEY: privateJwk })).toEqual(["AGENT_JWT_PUBLIC_KEY"]);
  });
});
