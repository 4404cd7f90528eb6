// Vendor base URLs carry our credentials: https only, with a named exception for
// local test servers (http on a loopback host, and only when explicitly allowed).
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, parseConfig } from "./index.ts";
import { AllowInsecureVendorUrls, checkVendorUrls, vendorUrlProblem } from "./vendor-url.ts";

const Schema = z
  .object({ VENDOR_BASE_URL: z.url().optional(), ...AllowInsecureVendorUrls })
  .superRefine(checkVendorUrls(["VENDOR_BASE_URL"]));
const issues = (env: Record<string, string>) => {
  try {
    parseConfig(Schema, env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues;
  }
};

describe("vendor base URLs", () => {
  it("accepts https anywhere", () => {
    expect(issues({ VENDOR_BASE_URL: "https://api.stack-ai.com" })).toEqual([]);
    expect(vendorUrlProblem("https://10.0.0.4:8443/x", false)).toBeUndefined();
  });

  it("refuses http, naming the variable and the way out", () => {
    const [issue] = issues({ VENDOR_BASE_URL: "http://api.stack-ai.com" });
    expect(issue?.variable).toBe("VENDOR_BASE_URL");
    expect(issue?.message).toMatch(/must be https:\/\//);
    expect(issue?.message).toMatch(/ALLOW_INSECURE_VENDOR_URLS=1/);
  });

  it("accepts http on a loopback host only when ALLOW_INSECURE_VENDOR_URLS=1", () => {
    for (const url of ["http://127.0.0.1:4010", "http://localhost:4010", "http://[::1]:4010"]) {
      expect(issues({ VENDOR_BASE_URL: url })).toHaveLength(1);
      expect(issues({ VENDOR_BASE_URL: url, ALLOW_INSECURE_VENDOR_URLS: "1" })).toEqual([]);
    }
  });

  it("never accepts http beyond this machine, allowed or not", () => {
    for (const url of [
      "http://stackai.internal:8080",
      "http://10.0.0.4",
      "http://127.0.0.1.nip.io",
    ])
      expect(issues({ VENDOR_BASE_URL: url, ALLOW_INSECURE_VENDOR_URLS: "1" })).toHaveLength(1);
  });

  it("refuses credentials in the URL and schemes other than http(s)", () => {
    expect(issues({ VENDOR_BASE_URL: "https://user:pw@api.stack-ai.com" })[0]?.message).toMatch(
      /credentials/,
    );
    expect(issues({ VENDOR_BASE_URL: "ftp://api.stack-ai.com" })).toHaveLength(1);
  });

  it("names a bad value of the allowance itself", () => {
    expect(issues({ ALLOW_INSECURE_VENDOR_URLS: "yes please" })[0]?.variable).toBe(
      "ALLOW_INSECURE_VENDOR_URLS",
    );
  });
});
