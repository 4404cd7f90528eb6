/**
 * Which driver serves which channel: the configured live driver of a channel, else the
 * simulated inbox when AGENT_UNCONFIGURED_CHANNELS=simulate, else none — the core then
 * answers `failed` "channel X not configured" rather than pretend to send. LinkedIn has
 * no live driver.
 */
import type { Db } from "@pw/db";
import type { ChannelSettings } from "../config.ts";
import { AgentChannel } from "../contract.ts";
import { createInAppDriver } from "./in-app.ts";
import { createSimulatedDriver } from "./simulated.ts";
import { createSlackDriver } from "./slack.ts";
import { createSmtpDriver } from "./smtp.ts";
import type { ChannelDriver } from "./types.ts";

export type Drivers = Map<AgentChannel, ChannelDriver>;

export function createDrivers(
  settings: ChannelSettings,
  deps: { db: Db; now?: () => Date },
): Drivers {
  const { timeoutMs } = settings;
  const live: Partial<Record<AgentChannel, ChannelDriver>> = {
    ...(settings.smtp ? { email: createSmtpDriver(settings.smtp, { timeoutMs }) } : {}),
    ...(settings.slack ? { slack: createSlackDriver(settings.slack, { timeoutMs }) } : {}),
    ...(settings.inApp ? { in_app: createInAppDriver(settings.inApp, { timeoutMs }) } : {}),
  };
  const drivers: Drivers = new Map();
  for (const channel of AgentChannel.options) {
    const driver = live[channel];
    if (driver) drivers.set(channel, driver);
    else if (settings.unconfigured === "simulate")
      drivers.set(
        channel,
        createSimulatedDriver(channel, {
          db: deps.db,
          sender: settings.simulatedFrom,
          ...(deps.now ? { now: deps.now } : {}),
        }),
      );
  }
  return drivers;
}

/** `{email: "smtp", slack: "simulated", linkedin: "not configured", …}` for the start log. */
export function describeDrivers(drivers: Drivers): Record<string, string> {
  return Object.fromEntries(
    AgentChannel.options.map((c) => [c, drivers.get(c)?.kind ?? "not configured (refused)"]),
  );
}

export * from "./types.ts";
export { createInAppDriver, createSimulatedDriver, createSlackDriver, createSmtpDriver };
