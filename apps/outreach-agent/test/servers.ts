/**
 * Real local servers for the agent's tests and dispatch's (`@pw/outreach-agent/test-servers`):
 * - `startSmtpServer()`: an SMTP server (smtp-server) that parses each mail (mailparser),
 *   with fault injection (the next N mails refused with 421/451/550) and a hook that can
 *   hold a mail before it is accepted;
 * - `startWebhookServer()`: records JSON posts and answers from a scripted sequence (or
 *   never answers: `{hang: true}`);
 * - `jwtFixture()`: a key pair, its JWKS served over HTTP, and tokens good and bad.
 * Nothing here sleeps for a fixed time: `waitForMail` / `waitForRequest` wait for the thing.
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { type HeaderValue, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

// ---------------------------------------------------------------- waiting

/** Resolves with the first item that matches, now or when it arrives; rejects after the time. */
function waiter<T>(items: T[]) {
  const listeners = new Set<() => void>();
  return {
    push(item: T) {
      items.push(item);
      for (const l of [...listeners]) l();
    },
    wait(predicate: (item: T) => boolean, timeoutMs: number, what: string): Promise<T> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = items.find(predicate);
          if (!found) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${items.length} seen)`),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = () => void check();
        listeners.add(listener);
        check();
      });
    },
  };
}

// ---------------------------------------------------------------- SMTP

export type ReceivedMail = {
  /** The From header's text. */
  from: string;
  /** The To header's text. */
  to: string;
  /** The SMTP envelope: who the server was asked to deliver to. */
  envelope: { from: string; to: string[] };
  subject: string;
  text: string;
  html: string | undefined;
  /** Lower-case header names, as mailparser gives them (it folds List-* into `list`). */
  headers: Map<string, HeaderValue>;
  /** A header's value as it was sent (unfolded), by case-insensitive name. */
  header(name: string): string | undefined;
  messageId: string | undefined;
  /** The message as received (RFC 5322 source). */
  raw: string;
};

export type SmtpFault = {
  /** 421/451 (transient) or 550/554 (permanent). */
  code: number;
  message?: string;
  /** Where to refuse: at RCPT TO or after DATA (default). */
  stage?: "rcpt" | "data";
};

export type TestSmtpServer = {
  port: number;
  /** `smtp://127.0.0.1:<port>` (any user:pass may be added: every login is accepted). */
  url: string;
  /** Mails accepted so far, in order. */
  readonly mails: ReceivedMail[];
  /** Mails refused by an injected fault. */
  readonly rejected: number;
  waitForMail(
    predicate?: (mail: ReceivedMail) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedMail>;
  /** The next `count` mails are refused with `fault`. */
  failNext(count: number, fault: SmtpFault): void;
  /** Runs before a mail is accepted (after DATA): await something to hold the 250 back. */
  onData: ((raw: string) => Promise<void> | void) | undefined;
  close(): Promise<void>;
};

function smtpError(fault: SmtpFault): Error {
  const error = new Error(fault.message ?? `injected ${fault.code}`) as Error & {
    responseCode: number;
  };
  error.responseCode = fault.code;
  return error;
}

function headerText(value: unknown): string {
  if (!value) return "";
  if (Array.isArray(value)) return value.map(headerText).join(", ");
  return (value as { text?: string }).text ?? String(value);
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const mails: ReceivedMail[] = [];
  const arrivals = waiter(mails);
  const faults: SmtpFault[] = [];
  let rejected = 0;
  const takeFault = (stage: "rcpt" | "data") => {
    const next = faults[0];
    if (!next || (next.stage ?? "data") !== stage) return undefined;
    faults.shift();
    rejected++;
    return next;
  };

  const state: TestSmtpServer = {
    port: 0,
    url: "",
    mails,
    get rejected() {
      return rejected;
    },
    waitForMail: (predicate = () => true, timeoutMs = 10_000) =>
      arrivals.wait(predicate, timeoutMs, "a mail"),
    failNext(count, fault) {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    onData: undefined,
    close: async () => {},
  };

  const server = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    authOptional: true,
    logger: false,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? "anyone" });
    },
    onRcptTo(_address, _session, callback) {
      const fault = takeFault("rcpt");
      callback(fault ? smtpError(fault) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        void (async () => {
          try {
            await state.onData?.(raw);
            const fault = takeFault("data");
            if (fault) return callback(smtpError(fault));
            const parsed = await simpleParser(raw);
            arrivals.push({
              from: headerText(parsed.from),
              to: headerText(parsed.to),
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              subject: parsed.subject ?? "",
              text: parsed.text ?? "",
              html: typeof parsed.html === "string" ? parsed.html : undefined,
              headers: parsed.headers,
              header: (name) => {
                const line = parsed.headerLines.find((h) => h.key === name.toLowerCase())?.line;
                return line
                  ?.slice(line.indexOf(":") + 1)
                  .replace(/\r?\n[ \t]+/g, " ")
                  .trim();
              },
              messageId: parsed.messageId,
              raw,
            });
            callback();
          } catch (error) {
            callback(error as Error);
          }
        })();
      });
    },
  });
  server.listen(0, "127.0.0.1");
  await once(server.server, "listening");
  const port = (server.server.address() as AddressInfo).port;
  state.port = port;
  state.url = `smtp://127.0.0.1:${port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

// ---------------------------------------------------------------- webhooks

export type WebhookRequest = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
};

export type ScriptedAnswer = {
  status?: number;
  body?: string | object;
  headers?: Record<string, string>;
  /** Never answer (a server that hangs): the caller's timeout is what ends the call. */
  hang?: boolean;
};

export type TestWebhookServer = {
  url: string;
  readonly requests: WebhookRequest[];
  /** Answers for the next requests, in order; after them, `fallback`. */
  script(...answers: (ScriptedAnswer | number)[]): void;
  fallback: ScriptedAnswer;
  waitForRequest(
    predicate?: (request: WebhookRequest) => boolean,
    timeoutMs?: number,
  ): Promise<WebhookRequest>;
  close(): Promise<void>;
};

export async function startWebhookServer(
  options: { fallback?: ScriptedAnswer } = {},
): Promise<TestWebhookServer> {
  const requests: WebhookRequest[] = [];
  const arrivals = waiter(requests);
  const queue: ScriptedAnswer[] = [];
  const hanging = new Set<import("node:http").ServerResponse>();
  const state = {
    url: "",
    requests,
    fallback: options.fallback ?? { status: 200, body: "ok" },
    script(...answers: (ScriptedAnswer | number)[]) {
      queue.push(...answers.map((a) => (typeof a === "number" ? { status: a } : a)));
    },
    waitForRequest: (predicate: (r: WebhookRequest) => boolean = () => true, timeoutMs = 10_000) =>
      arrivals.wait(predicate, timeoutMs, "a webhook request"),
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      const answer = queue.shift() ?? state.fallback;
      arrivals.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        text,
        json,
      });
      if (answer.hang) {
        hanging.add(res);
        return;
      }
      const body =
        answer.body === undefined
          ? ""
          : typeof answer.body === "string"
            ? answer.body
            : JSON.stringify(answer.body);
      res.writeHead(answer.status ?? 200, {
        ...(typeof answer.body === "object" ? { "content-type": "application/json" } : {}),
        ...answer.headers,
      });
      res.end(body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

// ---------------------------------------------------------------- JWT

export type JwtFixture = {
  alg: "EdDSA" | "RS256";
  issuer: string;
  audience: string;
  /** `http://127.0.0.1:<port>/.well-known/jwks.json` */
  jwksUrl: string;
  /** The signing key's public half as PEM (for AGENT_JWT_PUBLIC_KEY) and as JWK. */
  publicPem: string;
  publicJwk: JWK;
  /** A valid token (5 minutes), with extra or overridden claims. */
  token(claims?: JWTPayload): Promise<string>;
  /** Expired an hour ago. */
  expiredToken(): Promise<string>;
  wrongIssuerToken(): Promise<string>;
  wrongAudienceToken(): Promise<string>;
  /** Right claims, signed by a key the JWKS does not hold (same kid). */
  otherKeyToken(): Promise<string>;
  /** How many times the JWKS was fetched. */
  readonly jwksFetches: number;
  close(): Promise<void>;
};

export async function jwtFixture(
  options: { alg?: "EdDSA" | "RS256"; issuer?: string; audience?: string } = {},
): Promise<JwtFixture> {
  const alg = options.alg ?? "EdDSA";
  const issuer = options.issuer ?? "https://idp.test/";
  const audience = options.audience ?? "outreach-agent";
  const kid = "test-key-1";
  const pair = await generateKeyPair(alg, { extractable: true });
  const other = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" };
  const publicPem = await exportSPKI(pair.publicKey);
  let jwksFetches = 0;

  const server = createServer((req, res) => {
    if (req.url !== "/.well-known/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    jwksFetches++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;

  const sign = (
    claims: JWTPayload,
    key: typeof pair.privateKey = pair.privateKey,
    expiresAt: number = Math.floor(Date.now() / 1_000) + 300,
  ) =>
    new SignJWT({ sub: "dispatch", ...claims })
      .setProtectedHeader({ alg, kid, typ: "JWT" })
      .setIssuedAt(expiresAt - 600)
      .setIssuer((claims.iss as string | undefined) ?? issuer)
      .setAudience((claims.aud as string | string[] | undefined) ?? audience)
      .setExpirationTime(expiresAt)
      .sign(key);

  return {
    alg,
    issuer,
    audience,
    jwksUrl,
    publicPem,
    publicJwk,
    token: (claims = {}) => sign(claims),
    expiredToken: () => sign({}, pair.privateKey, Math.floor(Date.now() / 1_000) - 3_600),
    wrongIssuerToken: () => sign({ iss: "https://someone-else.test/" }),
    wrongAudienceToken: () => sign({ aud: "another-app" }),
    otherKeyToken: () => sign({}, other.privateKey),
    get jwksFetches() {
      return jwksFetches;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
