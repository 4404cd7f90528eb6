// `pnpm seed`'s command line: a bad argument is one line naming the option and why (exit 2);
// run as a user runs it (a child process), a bad file is refused naming each line and field
// with nothing sent, and a run against a refusing ingest exits 1 with the reason.
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describeFailure } from "@pw/simulator/command-line";
import { describe, expect, it } from "vitest";
import { parseSeedCommand, USAGE } from "./command.ts";

const run = promisify(execFile);
const CLI = join(import.meta.dirname, "cli.ts");
const secret = "whsec_c2VlZC10ZXN0LXNlY3JldC1zZWVkLXRlc3Q=";

type Result = { code: number; stdout: string; stderr: string };

async function seed(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return run(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH!, ...env },
    cwd: tmpdir(),
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: Result) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

async function file(text: string) {
  const dir = await mkdtemp(join(tmpdir(), "seed-cli-"));
  const path = join(dir, "events.ndjson");
  await writeFile(path, text);
  return path;
}

/** What the CLI prints for a bad command line (the house contract: one line, then the usage hint). */
function refusal(args: string[]) {
  try {
    parseSeedCommand(args, "data/sample-events");
  } catch (error) {
    return describeFailure("seed", USAGE, error);
  }
  throw new Error(`${JSON.stringify(args)} was accepted`);
}

describe("pnpm seed (command line)", () => {
  it.each([
    [["--concurrency", "0"], '--concurrency: "0" is not a whole number in [1, 256]'],
    [["--simulate", "ten"], '--simulate: "ten" is not a whole number in [1, 1000000]'],
    [["--simulate", "5", "--rate", "0"], '--rate: "0" is not a number in (0, 10000]'],
    [["--rate", "5"], "--rate: only with --simulate"],
    [
      ["--outcome", "won", "--lead", "lf_1"],
      '--outcome: "won" is not one of delivered, opened, clicked, replied, meeting_booked, converted, bounced, unsubscribed',
    ],
    [["--outcome", "converted"], "--outcome: needs --lead <lead id>"],
    [["--lead", "lf_1"], "--lead: only with --outcome"],
    [
      ["--outcome", "converted", "--lead", "lf_1", "--text", "hi"],
      "--text: the reply's text goes with --outcome replied, not converted",
    ],
    [
      ["--outcome", "converted", "--lead", "lf_1", "--files", "x"],
      "--files: only with replays and --simulate, not --outcome",
    ],
    [["--simulate", "3", "--files", "x.ndjson"], "--files: not with --simulate (one or the other)"],
    [["--concurency", "3"], "--concurency: unknown option (did you mean --concurrency?)"],
    [["--deadline", "-1"], '--deadline: "-1" is not a number in (0, 86400]'],
    [["events.ndjson"], 'unexpected argument "events.ndjson" (files go after --files)'],
    [["--url", "ftp://x"], '--url: "ftp://x" must be an http(s) URL'],
    [
      ["--secret", "hunter2hunter2hunter2"],
      "--secret: the secret must look like whsec_<base64> (the value is not shown)",
    ],
  ])("refuses %j in one line naming it (exit 2)", (args, message) => {
    const { code, text } = refusal(args);
    expect(code).toBe(2);
    expect(text.split("\n")[0]).toBe(`seed: ${message}`);
    expect(text).not.toContain("hunter2");
  });

  it("reads each mode with its defaults", () => {
    expect(parseSeedCommand([], "data/sample-events")).toEqual({
      mode: "files",
      files: ["data/sample-events"],
      concurrency: 16,
      json: false,
    });
    expect(
      parseSeedCommand(
        ["--simulate", "50", "--rate", "2.5", "--seed", "7", "--deadline", "30"],
        "d",
      ),
    ).toMatchObject({ mode: "simulate", count: 50, rate: 2.5, seed: 7, deadlineMs: 30_000 });
    expect(
      parseSeedCommand(
        ["--outcome", "replied", "--lead", "lf_1", "--text", "Yes, Tuesday works"],
        "d",
      ),
    ).toMatchObject({ mode: "outcome", kind: "replied", lead: "lf_1", text: "Yes, Tuesday works" });
  });

  it("exits 2 with the message and a usage hint, no stack trace, when run with a bad option", async () => {
    const r = await seed(["--simulate", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `seed: --simulate: "0" is not a whole number in [1, 1000000]\n${USAGE.split("\n")[0]}  (--help for details)\n`,
    );
  });

  it("refuses a bad file before sending anything, naming each bad line and field", async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(202).end("{}");
    }).listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const path = await file(
      [
        JSON.stringify({ webhookId: "a", route: "/webhooks/signals", body: {} }),
        "{oops",
        JSON.stringify({ webhookId: "b", route: "/hooks/signals", body: {} }),
        JSON.stringify({ webhookId: "c", route: "/webhooks/signals", offsetMs: 60_000, body: {} }),
        JSON.stringify({ webhookId: "a", route: "/webhooks/signals", body: {} }),
      ].join("\n"),
    );
    const r = await seed(["--files", path, "--url", url, "--secret", secret]);
    server.close();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}:2: not valid JSON`);
    expect(r.stderr).toContain(`${path}:3: route: must be /webhooks/lightfield`);
    expect(r.stderr).toContain(`${path}:4: offsetMs: must be ≤ 0`);
    expect(r.stderr).toContain(`events.ndjson:5: webhookId: "a" is also used at events.ndjson:1`);
    expect(requests).toBe(0);
  });

  it("posts a file, prints progress on stderr and the summary on stdout; a refusal exits 1 with its reason", async () => {
    const server = createServer(async (req, res) => {
      for await (const _ of req);
      const id = String(req.headers["webhook-id"]);
      if (id === "bad")
        res.writeHead(400, { "content-type": "application/json" }).end(
          JSON.stringify({
            error: {
              status: 400,
              code: "invalid_body",
              message: "leadId: a signal needs leadId or email",
            },
          }),
        );
      else res.writeHead(202, { "content-type": "application/json" }).end('{"accepted":true}');
    }).listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const line = (id: string) =>
      JSON.stringify({ webhookId: id, route: "/webhooks/signals", body: { type: "page_viewed" } });
    const path = await file([line("good"), line("bad")].join("\n"));
    const r = await seed(["--files", path], { INGEST_URL: url, WEBHOOK_SECRET: secret });
    server.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`→ ${url} (url from INGEST_URL, secret from WEBHOOK_SECRET)`);
    expect(r.stderr).toMatch(/^seed: 2\/2 webhooks: accepted 1, duplicates 0, rejected 1$/m);
    expect(r.stdout).toContain("2 webhooks in");
    expect(r.stdout).toContain("1 accepted, 0 duplicates, 1 rejected, 0 not delivered");
    expect(r.stdout).toContain(
      "rejected 1× 400 invalid_body: leadId: a signal needs leadId or email (e.g. events.ndjson:2)",
    );
    expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it("simulates leads with any valid world: one without a lead model falls back to the built-in mix, and says so", async () => {
    const posted: string[] = [];
    const server = createServer(async (req, res) => {
      for await (const _ of req);
      posted.push(String(req.url));
      res.writeHead(202, { "content-type": "application/json" }).end('{"accepted":true}');
    }).listen(0, "127.0.0.1");
    await once(server, "listening");
    const env = {
      INGEST_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      WEBHOOK_SECRET: secret,
    };
    const worlds = join(import.meta.dirname, "../../../data/worlds");
    const plain = await seed(
      ["--simulate", "3", "--rate", "100", "--world", join(worlds, "all-bounce.json")],
      env,
    );
    const modelled = await seed(
      ["--simulate", "3", "--rate", "100", "--world", join(worlds, "demo.json")],
      env,
    );
    server.close();
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain("has no lead model");
    expect(plain.stderr).toContain("simulating the built-in lead mix instead");
    expect(plain.stdout).toContain("3 leads simulated");
    expect(modelled.code).toBe(0);
    expect(modelled.stderr).not.toContain("has no lead model");
    // Each simulated lead is at least its contact, from either world.
    expect(posted.filter((u) => u === "/webhooks/lightfield?type=contact.created")).toHaveLength(6);
  });
});
