// Baseline for bench:ingest — the same Fastify, one route that answers 202 and does nothing.
import Fastify from "fastify";

const app = Fastify();
app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_r, body, done) =>
  done(null, body),
);
app.get("/healthz", async () => ({ status: "ok" }));
app.post("/webhooks/signals", async (_req, reply) => reply.code(202).send({ accepted: true }));
await app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" });
