// truefoundry.yaml checked against a schema written from Truefoundry's published models
// (truefoundry-python-sdk, src/truefoundry_sdk/types: Service / BaseService, Port,
// PortAppProtocol, PortProtocol, PortAuth = BasicAuthCreds | JwtAuthConfig |
// TrueFoundryInteractiveLogin, Resources, HealthProbe, HttpProbe, ServiceReplicas =
// number | ServiceAutoscaling {min_replicas, max_replicas, polling_interval, metrics:
// CpuUtilizationMetric | RpsMetric | CronMetric}, Build {build_source, build_spec},
// LocalSource, DockerFileBuild, Image; docs https://www.truefoundry.com/docs/service and
// /docs/api-reference-image-and-build). The platform accepts unknown fields and ignores
// them; this schema refuses them, so a misspelt field fails here instead of silently.
// Plus what ties the manifest to this repo: the probe port is the exposed port and the
// app's port, the Dockerfile exists and runs this app, the env names variables the agent
// reads, and credentials are `tfy-secret://` references, never values.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import { z } from "zod";
import { AgentConfig, agentConfig } from "./config.ts";

const APP_DIR = join(import.meta.dirname, "..");
const REPO_ROOT = join(APP_DIR, "../..");
const MANIFEST = join(APP_DIR, "truefoundry.yaml");

/** `tfy-secret://<tenant>:<secret group>:<key>` (docs: environment variables and secrets). */
const SECRET_REF =
  /^tfy-secret:\/\/[A-Za-z0-9][A-Za-z0-9_.-]*:[A-Za-z0-9][A-Za-z0-9_.-]*:[A-Za-z0-9_.-]+$/;
/** Variables whose values are credentials: only ever a secret reference in a manifest. */
const CREDENTIALS = [
  "DATABASE_URL",
  "SMTP_URL",
  "SLACK_WEBHOOK_URL",
  "IN_APP_WEBHOOK_TOKEN",
  "AGENT_JWT_SECRET",
  "KAFKA_SASL_PASSWORD",
];

const HttpProbe = z.strictObject({
  type: z.literal("http"),
  path: z.string().startsWith("/"),
  port: z.int().min(1).max(65_535),
  host: z.string().optional(),
  scheme: z.string().optional(),
});
const HealthProbe = z.strictObject({
  config: HttpProbe,
  initial_delay_seconds: z.int().min(0).optional(),
  period_seconds: z.int().min(1).optional(),
  timeout_seconds: z.int().min(1).optional(),
  success_threshold: z.int().min(1).optional(),
  failure_threshold: z.int().min(1).optional(),
});
const JwtAuthConfig = z.strictObject({
  type: z.literal("jwt_auth"),
  integration_fqn: z.string().min(1),
  enable_login: z.boolean().optional(),
  claims: z.array(z.strictObject({ key: z.string(), values: z.array(z.string()) })).optional(),
  bypass_auth_paths: z.array(z.string().regex(/^\/[^*]*$/)).optional(),
});
const BasicAuthCreds = z.strictObject({
  type: z.literal("basic_auth"),
  username: z.string().min(1),
  password: z.string().min(1),
});
const TrueFoundryInteractiveLogin = z.strictObject({
  type: z.literal("truefoundry_oauth"),
  bypass_auth_paths: z.array(z.string()).optional(),
});
const Port = z.strictObject({
  port: z.int().min(1).max(65_535),
  protocol: z.enum(["TCP", "UDP"]),
  expose: z.boolean(),
  app_protocol: z.enum(["http", "grpc", "tcp"]).optional(),
  host: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/)
    .optional(),
  path: z.string().startsWith("/").optional(),
  rewrite_path_to: z.string().optional(),
  auth: z
    .discriminatedUnion("type", [JwtAuthConfig, BasicAuthCreds, TrueFoundryInteractiveLogin])
    .optional(),
});
const Resources = z
  .strictObject({
    cpu_request: z.number().positive(),
    cpu_limit: z.number().positive(),
    /** MB */
    memory_request: z.int().positive(),
    memory_limit: z.int().positive(),
    ephemeral_storage_request: z.int().positive(),
    ephemeral_storage_limit: z.int().positive(),
    shared_memory_size: z.int().positive().optional(),
  })
  .refine((r) => r.cpu_limit >= r.cpu_request, "cpu_limit must be >= cpu_request")
  .refine((r) => r.memory_limit >= r.memory_request, "memory_limit must be >= memory_request")
  .refine(
    (r) => r.ephemeral_storage_limit >= r.ephemeral_storage_request,
    "ephemeral_storage_limit must be >= ephemeral_storage_request",
  );
const ServiceAutoscaling = z
  .strictObject({
    min_replicas: z.int().min(0).default(1),
    max_replicas: z.int().min(1),
    polling_interval: z.int().min(1).optional(),
    metrics: z.discriminatedUnion("type", [
      z.strictObject({ type: z.literal("cpu_utilization"), value: z.int().min(1).max(100) }),
      z.strictObject({ type: z.literal("rps"), value: z.number().positive() }),
      z.strictObject({ type: z.literal("cron") }).loose(),
    ]),
  })
  .refine((a) => a.max_replicas >= a.min_replicas, "max_replicas must be >= min_replicas");
const LocalSource = z.strictObject({
  type: z.literal("local"),
  project_root_path: z.string().optional(),
  local_build: z.boolean().optional(),
});
const GitSource = z.strictObject({
  type: z.literal("git"),
  repo_url: z.url(),
  ref: z.string(),
  branch_name: z.string().optional(),
});
const DockerFileBuild = z.strictObject({
  type: z.literal("dockerfile"),
  dockerfile_path: z.string().min(1),
  build_context_path: z.string().min(1),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  build_args: z.record(z.string(), z.string()).optional(),
});
const Build = z.strictObject({
  type: z.literal("build"),
  docker_registry: z.string().optional(),
  build_source: z.discriminatedUnion("type", [LocalSource, GitSource]),
  build_spec: DockerFileBuild,
});
const Image = z.strictObject({
  type: z.literal("image"),
  image_uri: z.string().min(1),
  docker_registry: z.string().optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
});
const Service = z.strictObject({
  type: z.literal("service"),
  /** Alphanumerics and '-', at most 25 characters (BaseService.name). */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,24}$/),
  image: z.discriminatedUnion("type", [Build, Image]),
  resources: Resources.optional(),
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string().nullable()).optional(),
  ports: z.array(Port).min(1),
  replicas: z.union([z.number().min(0), ServiceAutoscaling]),
  liveness_probe: HealthProbe.optional(),
  readiness_probe: HealthProbe.optional(),
  startup_probe: HealthProbe.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  allow_interception: z.boolean().optional(),
  workspace_fqn: z.string().optional(),
});
type Service = z.infer<typeof Service>;

/** Every variable the agent's config reads (walking the composed zod schema). */
function configVariables(schema: z.ZodType = AgentConfig): string[] {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  if (def.type === "intersection")
    return [...configVariables(def.left as z.ZodType), ...configVariables(def.right as z.ZodType)];
  if (def.type === "pipe") return configVariables(def.in as z.ZodType);
  if (def.type === "object") return Object.keys(def.shape as object);
  return [];
}

/** Stand-ins for secret references, so that the rest of the env can be parsed for real. */
const SECRET_STAND_INS: Record<string, string> = {
  DATABASE_URL: "postgres://agent:pw@db.internal:5432/agent",
  SMTP_URL: "smtps://agent:pw@smtp.example.com:465",
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B0/x",
  IN_APP_WEBHOOK_TOKEN: "token",
  AGENT_JWT_SECRET: "x".repeat(32),
  KAFKA_SASL_PASSWORD: "pw",
};

/** Everything wrong with a manifest, as readable lines (empty: fine). */
function manifestProblems(manifest: unknown): string[] {
  const parsed = Service.safeParse(manifest);
  if (!parsed.success)
    return parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  const service: Service = parsed.data;
  const problems: string[] = [];

  const exposed = service.ports.find((p) => p.expose);
  if (!exposed) problems.push("ports: no exposed port");
  else {
    if (exposed.app_protocol !== "http") problems.push("ports: the agent speaks http");
    if (!exposed.host) problems.push("ports: an exposed port needs a host");
    if (exposed.auth?.type !== "jwt_auth") problems.push("ports: auth must be jwt_auth");
    if (exposed.port !== agentConfig({}).port)
      problems.push(`ports: ${exposed.port} is not the agent's port ${agentConfig({}).port}`);
  }
  for (const [name, path] of [
    ["liveness_probe", "/healthz"],
    ["readiness_probe", "/readyz"],
  ] as const) {
    const probe = service[name];
    if (!probe) problems.push(`${name}: missing`);
    else {
      if (probe.config.path !== path) problems.push(`${name}: path must be ${path}`);
      if (exposed && probe.config.port !== exposed.port)
        problems.push(`${name}: port ${probe.config.port} is not the exposed port ${exposed.port}`);
    }
  }

  if (service.image.type === "build") {
    const { dockerfile_path, build_context_path } = service.image.build_spec;
    const dockerfile = join(REPO_ROOT, build_context_path, dockerfile_path);
    if (!existsSync(dockerfile)) problems.push(`build_spec: ${dockerfile_path} does not exist`);
    else {
      const text = readFileSync(dockerfile, "utf8");
      const cmd = /^CMD \["node", "([^"]+)"\]/m.exec(text)?.[1];
      if (!cmd || !existsSync(join(REPO_ROOT, cmd)))
        problems.push(`Dockerfile: CMD does not run an existing entry point (${cmd})`);
      if (exposed && !new RegExp(`^EXPOSE ${exposed.port}$`, "m").test(text))
        problems.push(`Dockerfile: does not EXPOSE ${exposed?.port}`);
    }
  }

  const env = service.env ?? {};
  const known = new Set(configVariables());
  const substituted: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!known.has(key)) problems.push(`env.${key}: not a variable the agent reads`);
    if (value === null) continue;
    if (value.startsWith("tfy-secret:")) {
      if (!SECRET_REF.test(value))
        problems.push(`env.${key}: "${value}" is not tfy-secret://<tenant>:<group>:<key>`);
      substituted[key] = SECRET_STAND_INS[key] ?? "secret";
    } else {
      if (CREDENTIALS.includes(key))
        problems.push(`env.${key}: a credential must be a tfy-secret:// reference, not a value`);
      substituted[key] = value;
    }
  }
  // The rest of the env must be what the agent accepts at boot (URLs, enums, numbers).
  try {
    agentConfig(substituted);
  } catch (error) {
    problems.push(`env: the agent would refuse it: ${(error as Error).message}`);
  }
  if (env.AGENT_AUTH === "none") problems.push("env.AGENT_AUTH: never none in a deployment");
  if (env.HOST !== "0.0.0.0") problems.push("env.HOST: must be 0.0.0.0 to be reachable in the pod");
  return problems;
}

const load = () => parse(readFileSync(MANIFEST, "utf8")) as Record<string, unknown>;
/** The manifest as the broken-copy cases edit it: any field, at any depth. */
// biome-ignore lint/suspicious/noExplicitAny: the cases reach into arbitrary nested fields
type Editable = Record<string, any>;
/** A deep copy to break. */
const copy = () => structuredClone(load()) as Editable;

describe("truefoundry.yaml", () => {
  it("is well-formed YAML", () => {
    expect(parseDocument(readFileSync(MANIFEST, "utf8")).errors).toEqual([]);
  });

  it("matches Truefoundry's Service schema and this repo", () => {
    expect(manifestProblems(load())).toEqual([]);
  });

  it.each<[string, (m: Editable) => void, RegExp]>([
    ["no readiness probe", (m) => delete m.readiness_probe, /readiness_probe: missing/],
    [
      "a malformed secret reference",
      (m) => (m.env.SMTP_URL = "tfy-secret://only-one-part"),
      /env\.SMTP_URL.*tfy-secret/,
    ],
    [
      "a credential in clear",
      (m) => (m.env.SMTP_URL = "smtps://u:p@smtp.acme.com"),
      /env\.SMTP_URL: a credential/,
    ],
    [
      "a probe on another port",
      (m) => (m.liveness_probe.config.port = 8080),
      /liveness_probe: port 8080/,
    ],
    [
      "an unknown app_protocol",
      (m) => (m.ports[0].app_protocol = "https"),
      /ports\.0\.app_protocol/,
    ],
    [
      "a Dockerfile that does not exist",
      (m) => (m.image.build_spec.dockerfile_path = "apps/nope/Dockerfile"),
      /does not exist/,
    ],
    [
      "a misspelt field",
      (m) => {
        m.liveness_prob = m.liveness_probe;
        delete m.liveness_probe;
      },
      /liveness_prob/,
    ],
    ["an env variable the agent does not read", (m) => (m.env.SMTP_URLS = "x"), /env\.SMTP_URLS/],
    [
      "an http JWKS URL",
      (m) => (m.env.AGENT_JWT_JWKS_URL = "http://idp.example/jwks"),
      /AGENT_JWT_JWKS_URL/,
    ],
    ["autoscaling without max_replicas", (m) => delete m.replicas.max_replicas, /replicas/],
    [
      "a probe without a type",
      (m) => delete m.readiness_probe.config.type,
      /readiness_probe\.config\.type/,
    ],
    [
      "auth without an integration",
      (m) => delete m.ports[0].auth.integration_fqn,
      /ports\.0\.auth/,
    ],
  ])("fails on a broken copy: %s", (_name, breakIt, expected) => {
    const broken = copy();
    breakIt(broken);
    const problems = manifestProblems(broken);
    expect(problems.join("\n")).toMatch(expected);
  });
});
