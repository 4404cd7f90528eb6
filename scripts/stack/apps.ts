/**
 * The processes of the distributed stack: which apps, their default ports (ARCHITECTURE.md's
 * fixed interface points, ServiceBaseConfig's defaults) and which may run as several
 * instances.
 */

export const SERVICE_APPS = [
  "gateway",
  "ingest",
  "scoring",
  "experiments",
  "dispatch",
  "outreach-agent",
] as const;
export type ServiceApp = (typeof SERVICE_APPS)[number];
export type AppName = ServiceApp | "web";

/**
 * The consumer services scale as Kafka consumer groups; ingest scales behind a port per
 * instance. The gateway holds the dashboard's live stream and read model (one per
 * dashboard), and the outreach agent is the one HTTP endpoint dispatch is pointed at.
 */
export const SCALABLE_APPS = ["ingest", "scoring", "experiments", "dispatch"] as const;
export type ScalableApp = (typeof SCALABLE_APPS)[number];

export const DEFAULT_PORTS: Record<AppName, number> = {
  web: 3000,
  gateway: 4000,
  ingest: 4100,
  scoring: 4200,
  experiments: 4300,
  dispatch: 4400,
  "outreach-agent": 4500,
};

/** At most this many instances of one app: instance n listens on its default port + n - 1. */
export const MAX_SCALE = 16;

/**
 * Started (and readied) first: the engine's first instance creates every topic (each
 * service ensures them at start, and a dozen doing it at once on a fresh prefix would
 * race), and the agent is what dispatch sends through.
 */
export const FIRST: readonly ServiceApp[] = ["experiments", "outreach-agent"];

export const isScalable = (app: string): app is ScalableApp =>
  (SCALABLE_APPS as readonly string[]).includes(app);
