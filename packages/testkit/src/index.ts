/**
 * Test fixtures that hand integration suites a real Kafka broker and a real
 * PostgreSQL — never mocks of them.
 *
 * Where a service comes from, in order:
 *   1. the environment (`KAFKA_BROKERS`, `DATABASE_URL`) — e.g. `scripts/services.sh up`;
 *   2. testcontainers (Redpanda, Postgres) when a Docker engine answers;
 *   3. nothing: the suite is skipped with a loud one-line notice — unless
 *      `REQUIRE_SERVICES=1`, in which case the fixture throws and the suite fails.
 *
 * Plus `waitFor`, the one polling helper tests use to wait for asynchronous effects.
 */

export { freePort, freePorts } from "./free-port.ts";
export { type KafkaFixture, kafkaFixture, topicMessageCount } from "./kafka.ts";
export { type PostgresFixture, postgresFixture, type TestDatabase } from "./postgres.ts";
export { type PrivateKafka, privateKafka } from "./private-kafka.ts";
export { type PrivatePostgres, privatePostgres } from "./private-postgres.ts";
export { requireServices, uniqueName } from "./services.ts";
export { type WaitForOptions, waitFor } from "./wait-for.ts";
