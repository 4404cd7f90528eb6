// Is a failure the environment's (a dependency is down, slow or busy: wait and try the
// same thing again) or the work's own (retrying the same input gives the same error)?
// Bus delivery retries the first kind without bound and gives the second kind a few
// attempts before parking the message (ADR 0008).

/** Node / libuv / undici codes for a peer that cannot be reached or went away mid-call. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENETRESET",
  "EAI_AGAIN",
  // A name that does not resolve is a DNS or deployment problem, never the message's.
  "ENOTFOUND",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/**
 * PostgreSQL SQLSTATEs that say "try again later": the server is going away, starting,
 * full, or chose this transaction as the victim of a conflict. Whole class 08
 * (connection exception) is matched separately.
 */
const PG_TRANSIENT_SQLSTATES = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, recovery)
  "53300", // too_many_connections
  "40001", // serialization_failure
  "40P01", // deadlock_detected
]);

/**
 * kafkajs protocol error types that mean the cluster is (briefly) unable to serve us.
 * Most carry kafkajs's own `retriable: true`; BROKER_NOT_AVAILABLE does not, but a broker
 * that is down is the textbook transient failure.
 */
const KAFKA_TRANSIENT_TYPES = new Set(["BROKER_NOT_AVAILABLE", "COORDINATOR_NOT_AVAILABLE"]);

/** kafkajs errors that are about the connection, whatever their `retriable` flag. */
const KAFKA_CONNECTION_ERRORS = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSLockTimeout",
]);

/** Errors from drivers that carry no code (pg, pg-pool) but a message that is a contract. */
const TRANSIENT_MESSAGES = [
  /timeout exceeded when trying to connect/i, // pg-pool: every client busy, or none connects
  /Connection terminated unexpectedly/i, // pg: the server went away mid-query
  /Connection terminated due to connection timeout/i,
  /Client has encountered a connection error and is not queryable/i,
  /the database system is (starting up|shutting down|in recovery)/i,
  /terminating connection due to administrator command/i,
  /sorry, too many clients already/i,
];

/** Our own and the platform's: a deadline passed or a breaker refuses to call a dependency. */
const TRANSIENT_NAMES = new Set(["TimeoutError", "CircuitOpenError"]);

/**
 * Every error reachable from `error` through `cause` links and `AggregateError.errors`,
 * outermost first (cycles and very deep chains are cut off).
 */
export function errorChain(error: unknown): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 32) {
    const e = queue.shift();
    if (e === undefined || e === null || seen.has(e)) continue;
    seen.add(e);
    out.push(e);
    if (typeof e !== "object") continue;
    const { cause, errors } = e as { cause?: unknown; errors?: unknown };
    if (cause !== undefined) queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return out;
}

/** One link of a chain, without looking further. */
function transientLink(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const { name, code, message, type, retriable } = e as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    type?: unknown;
    retriable?: unknown;
  };
  if (typeof code === "string") {
    if (NETWORK_CODES.has(code)) return true;
    // A SQLSTATE is five characters; class 08 is "connection exception".
    if (/^[0-9A-Z]{5}$/.test(code) && (code.startsWith("08") || PG_TRANSIENT_SQLSTATES.has(code)))
      return true;
  }
  if (typeof name === "string") {
    if (TRANSIENT_NAMES.has(name) || KAFKA_CONNECTION_ERRORS.has(name)) return true;
    // kafkajs marks what its own retries would retry; once they are exhausted it throws a
    // non-retriable KafkaJSNumberOfRetriesExceeded whose cause carries the real verdict.
    if (name.startsWith("KafkaJS") && retriable === true) return true;
  }
  if (typeof type === "string" && KAFKA_TRANSIENT_TYPES.has(type)) return true;
  if (typeof message === "string" && TRANSIENT_MESSAGES.some((re) => re.test(message))) return true;
  return false;
}

/**
 * True when `error` — or anything in its `cause` chain or an `AggregateError`'s errors —
 * says a dependency is unreachable, slow, overloaded or restarting, so the same work is
 * expected to succeed later: network errors (refused, reset, timed out, unreachable,
 * DNS), PostgreSQL connection failures and SQLSTATE classes 08, 57P01–57P03, 53300,
 * 40001, 40P01, pg-pool's "timeout exceeded when trying to connect", kafkajs connection
 * and retriable protocol errors, a broker not available, our `TimeoutError` and
 * `CircuitOpenError`. Anything else (a bug, a constraint violation, a validation error,
 * a vendor's 4xx) is not transient.
 */
export function isTransient(error: unknown): boolean {
  return errorChain(error).some(transientLink);
}
