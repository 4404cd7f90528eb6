/**
 * Base URLs of vendors we send credentials to (stackAI, Lightfield): `https://` only.
 * Local test servers are the one exception, and an explicit one: `http://` is accepted
 * when ALLOW_INSECURE_VENDOR_URLS=1 *and* the host is this machine (localhost,
 * 127.0.0.0/8, ::1) — so the flag left on in production still cannot send a key across
 * a network in clear text. Credentials in the URL itself are refused: they belong in the
 * key variable, and a URL is the first thing to end up in a log line.
 */
import { z } from "zod";

/** Loopback literals only: a name that merely resolves to 127.0.0.1 is not trusted. */
function isLoopback(hostname: string): boolean {
  if (hostname === "localhost" || hostname === "[::1]") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Why `url` may not be a vendor base URL, or undefined when it may. */
export function vendorUrlProblem(url: string, allowInsecure: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be a URL";
  }
  if (parsed.username || parsed.password)
    return "must not contain credentials (user:password@); set the vendor's key variable instead";
  if (parsed.protocol === "https:") return undefined;
  if (parsed.protocol === "http:" && allowInsecure && isLoopback(parsed.hostname)) return undefined;
  if (parsed.protocol === "http:")
    return allowInsecure
      ? "must be https:// — http:// is accepted only for a loopback host (localhost, 127.0.0.1, [::1])"
      : "must be https:// (for a local test server on a loopback host, set ALLOW_INSECURE_VENDOR_URLS=1)";
  return `must be https:// (not ${parsed.protocol}//)`;
}

/** Spread into an app's env object: the explicit allowance for local test servers. */
export const AllowInsecureVendorUrls = {
  /**
   * 1: accept `http://` vendor base URLs on a loopback host (local test servers).
   * Never set in a deployment; it changes nothing for any other host.
   */
  ALLOW_INSECURE_VENDOR_URLS: z.stringbool().default(false),
};

/**
 * A `superRefine` for an app's env object: each named variable, when set, must be a
 * vendor URL by the rules above. Issues name the variable.
 */
export function checkVendorUrls<const K extends string>(variables: readonly K[]) {
  return (
    env: { ALLOW_INSECURE_VENDOR_URLS: boolean } & { [V in K]?: string | undefined },
    ctx: z.RefinementCtx,
  ): void => {
    for (const variable of variables) {
      const value = env[variable];
      if (value === undefined) continue;
      const problem = vendorUrlProblem(value, env.ALLOW_INSECURE_VENDOR_URLS);
      if (problem) ctx.addIssue({ code: "custom", path: [variable], message: problem });
    }
  };
}
