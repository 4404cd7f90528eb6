/**
 * Where to post and with which secret: `--url` / `--secret`, else INGEST_URL /
 * WEBHOOK_SECRET, else what the running demo wrote to `.data/demo.json`, else (URL only)
 * ingest's default port on this machine. Each value says where it came from, so the CLI
 * can tell the user — never the secret itself.
 */
import { readFile } from "node:fs/promises";
import { InputError, UsageError } from "@pw/simulator/command-line";
import { z } from "zod";

export const DEFAULT_INGEST_URL = "http://127.0.0.1:4100";

/** What `pnpm demo` writes for tools like this one. */
const DemoFile = z.looseObject({
  ingestUrl: z.string().optional(),
  webhookSecret: z.string().optional(),
  gatewayUrl: z.string().optional(),
  dashboardUrl: z.string().optional(),
});
export type DemoFile = z.infer<typeof DemoFile>;

export type Target = {
  ingestUrl: string;
  secret: string;
  /** Where each came from: "--url", "INGEST_URL", ".data/demo.json", "default". */
  urlFrom: string;
  secretFrom: string;
};

/** The demo file, or undefined when there is none; an InputError when it is unreadable. */
export async function readDemoFile(path: string): Promise<DemoFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = DemoFile.safeParse(json);
  if (!parsed.success)
    throw new InputError(
      `${path}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

/** An http(s) base URL, or a UsageError naming where it came from. */
export function checkUrl(url: string, from: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${from}: "${url}" is not a URL (like http://127.0.0.1:4100)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new UsageError(`${from}: "${url}" must be an http(s) URL`);
  if (u.username || u.password) throw new UsageError(`${from}: the URL must not carry credentials`);
  return u.origin + u.pathname.replace(/\/+$/, "");
}

/**
 * A Standard Webhooks secret, or a UsageError that names the source, never the value.
 * A comma-separated list (ingest's WEBHOOK_SECRET while rotating) signs with the first.
 */
export function checkSecret(secret: string, from: string): string {
  const first =
    secret
      .split(",")
      .map((s) => s.trim())
      .find(Boolean) ?? "";
  if (!/^whsec_[A-Za-z0-9+/=]{16,}$/.test(first))
    throw new UsageError(
      `${from}: the secret must look like whsec_<base64> (the value is not shown)`,
    );
  return first;
}

export async function resolveTarget(o: {
  url?: string;
  secret?: string;
  env?: Record<string, string | undefined>;
  demoFile: string;
  /** How the demo file is named in messages (".data/demo.json"). */
  demoFileLabel?: string;
}): Promise<Target> {
  const env = o.env ?? process.env;
  const label = o.demoFileLabel ?? o.demoFile;
  const needsDemo =
    (o.url === undefined && !env.INGEST_URL) || (o.secret === undefined && !env.WEBHOOK_SECRET);
  const demo = needsDemo ? await readDemoFile(o.demoFile) : undefined;
  const [rawUrl, urlFrom] =
    o.url !== undefined
      ? [o.url, "--url"]
      : env.INGEST_URL
        ? [env.INGEST_URL, "INGEST_URL"]
        : demo?.ingestUrl
          ? [demo.ingestUrl, label]
          : [DEFAULT_INGEST_URL, "default"];
  const [rawSecret, secretFrom] =
    o.secret !== undefined
      ? [o.secret, "--secret"]
      : env.WEBHOOK_SECRET
        ? [env.WEBHOOK_SECRET, "WEBHOOK_SECRET"]
        : demo?.webhookSecret
          ? [demo.webhookSecret, label]
          : [undefined, ""];
  if (rawSecret === undefined)
    throw new UsageError(
      `no webhook secret: pass --secret, set WEBHOOK_SECRET, or start the demo (it writes ${label})`,
    );
  return {
    ingestUrl: checkUrl(rawUrl, urlFrom),
    secret: checkSecret(rawSecret, secretFrom),
    urlFrom,
    secretFrom,
  };
}
