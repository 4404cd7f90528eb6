import type { NextConfig } from "next";

const config: NextConfig = {
  // The live stream is proxied through app/api: compression would buffer its frames.
  compress: false,
  poweredByHeader: false,
  reactStrictMode: true,
  // The services' personal-data scrubber (@pw/telemetry/scrub: TypeScript, no imports).
  transpilePackages: ["@pw/telemetry"],
  // Types are checked by `tsc -p apps/web` in CI (the workspace's TypeScript); the
  // build only compiles.
  typescript: { ignoreBuildErrors: true },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default config;
