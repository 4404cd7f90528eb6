import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import "./globals.css";
import { Providers } from "./providers.tsx";

export const metadata: Metadata = {
  title: "Pipeline Whisperer — command center",
  description: "What the go-to-market agent is doing, why, and the controls to steer it.",
};
export const viewport: Viewport = { width: "device-width", initialScale: 1 };
// The environment and the demo clock are read when a page is served, not at build time.
export const dynamic = "force-dynamic";

export default function RootLayout({ children }: { children: ReactNode }) {
  const environment = process.env.PW_ENVIRONMENT ?? "production";
  const scale = Number(process.env.PW_CLOCK_SCALE ?? process.env.DISPATCH_CLOCK_SCALE ?? "1");
  return (
    <html lang="en">
      <body>
        <Providers environment={environment} clockScale={Number.isFinite(scale) ? scale : null}>
          {children}
        </Providers>
      </body>
    </html>
  );
}
