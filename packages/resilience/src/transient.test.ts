import { describe, expect, it } from "vitest";
import { CircuitOpenError } from "./breaker.ts";
import { TimeoutError } from "./timeout.ts";
import { errorChain, isTransient } from "./transient.ts";

/** An Error with the extra fields drivers put on theirs (pg's `code`, kafkajs's `retriable`…). */
function err(message: string, fields: Record<string, unknown> = {}, cause?: unknown): Error {
  const e = new Error(message, cause === undefined ? undefined : { cause });
  return Object.assign(e, fields);
}
const pgError = (code: string, message = "pg error") =>
  err(message, { name: "error", code, severity: "FATAL" });
const kafkaError = (name: string, retriable: boolean, fields: Record<string, unknown> = {}) =>
  err(`${name} happened`, { name, retriable, ...fields });

// Shapes as the drivers throw them (pg 8, pg-pool 3, kafkajs 2, Node 24 net and undici).
const transient: [string, unknown][] = [
  ["connect ECONNREFUSED", err("connect ECONNREFUSED 127.0.0.1:5432", { code: "ECONNREFUSED" })],
  [
    "happy-eyeballs AggregateError (::1 and 127.0.0.1 both refused)",
    new AggregateError(
      [
        err("connect ECONNREFUSED ::1:5432", { code: "ECONNREFUSED" }),
        err("connect ECONNREFUSED 127.0.0.1:5432", { code: "ECONNREFUSED" }),
      ],
      "",
    ),
  ],
  ["read ECONNRESET", err("read ECONNRESET", { code: "ECONNRESET" })],
  ["socket ETIMEDOUT", err("connect ETIMEDOUT", { code: "ETIMEDOUT" })],
  ["EPIPE", err("write EPIPE", { code: "EPIPE" })],
  ["EHOSTUNREACH", err("connect EHOSTUNREACH", { code: "EHOSTUNREACH" })],
  ["DNS EAI_AGAIN", err("getaddrinfo EAI_AGAIN db", { code: "EAI_AGAIN" })],
  [
    "undici fetch failed (cause UND_ERR_CONNECT_TIMEOUT)",
    new TypeError("fetch failed", {
      cause: err("Connect Timeout Error", { code: "UND_ERR_CONNECT_TIMEOUT" }),
    }),
  ],
  ["pg-pool exhausted", err("timeout exceeded when trying to connect")],
  [
    "pg-pool connection timeout",
    err(
      "Connection terminated due to connection timeout",
      {},
      err("Connection terminated unexpectedly"),
    ),
  ],
  ["pg server went away", err("Connection terminated unexpectedly")],
  ["pg SQLSTATE 08006 connection_failure", pgError("08006")],
  ["pg SQLSTATE 08001 unable to connect", pgError("08001")],
  [
    "pg 57P01 admin_shutdown",
    pgError("57P01", "terminating connection due to administrator command"),
  ],
  ["pg 57P02 crash_shutdown", pgError("57P02")],
  ["pg 57P03 cannot_connect_now", pgError("57P03", "the database system is starting up")],
  ["pg 53300 too_many_connections", pgError("53300", "sorry, too many clients already")],
  ["pg 40001 serialization_failure", pgError("40001")],
  ["pg 40P01 deadlock_detected", pgError("40P01")],
  [
    "drizzle wrapping a pg error (Failed query … cause 57P01)",
    err("Failed query: insert into …", { name: "DrizzleQueryError" }, pgError("57P01")),
  ],
  [
    "kafkajs connection error",
    kafkaError("KafkaJSConnectionError", true, { code: "ECONNREFUSED" }),
  ],
  ["kafkajs request timeout", kafkaError("KafkaJSRequestTimeoutError", true)],
  [
    "kafkajs retries exhausted on a retriable protocol error",
    kafkaError("KafkaJSNumberOfRetriesExceeded", false, {
      cause: kafkaError("KafkaJSProtocolError", true, { type: "LEADER_NOT_AVAILABLE", code: 5 }),
    }),
  ],
  [
    "kafkajs BROKER_NOT_AVAILABLE (kafkajs calls it non-retriable)",
    kafkaError("KafkaJSProtocolError", false, { type: "BROKER_NOT_AVAILABLE", code: 8 }),
  ],
  ["kafkajs no broker available", kafkaError("KafkaJSNoBrokerAvailableError", true)],
  ["our TimeoutError", new TimeoutError(2_000)],
  [
    "AbortSignal.timeout's DOMException",
    new DOMException("The operation timed out", "TimeoutError"),
  ],
  ["our CircuitOpenError", new CircuitOpenError()],
  [
    "deep inside a wrapper chain",
    err("handler failed", {}, err("query failed", {}, pgError("08003"))),
  ],
];

const deterministic: [string, unknown][] = [
  ["a plain bug", new TypeError("Cannot read properties of undefined (reading 'id')")],
  ["pg unique_violation 23505", pgError("23505", "duplicate key value violates unique constraint")],
  ["pg not_null_violation 23502", pgError("23502")],
  ["pg undefined_table 42P01", pgError("42P01", 'relation "leads" does not exist')],
  ["pg invalid_text_representation 22P02", pgError("22P02")],
  ["pg client closed by us", err("Connection terminated")],
  ["pool used after end()", err("Cannot use a pool after calling end on the pool")],
  [
    "kafkajs MESSAGE_TOO_LARGE",
    kafkaError("KafkaJSProtocolError", false, { type: "MESSAGE_TOO_LARGE", code: 10 }),
  ],
  ["kafkajs SASL authentication failed", kafkaError("KafkaJSSASLAuthenticationError", false)],
  ["a numeric kafka protocol code is not a SQLSTATE", err("x", { code: 8 })],
  ["a validation error", err("leadId: Required", { name: "ZodError" })],
  ["a vendor's 400", err("Lightfield 400 invalid_request", { status: 400 })],
  ["not an error at all", "ECONNREFUSED"],
  ["undefined", undefined],
  ["null", null],
];

describe("isTransient", () => {
  it.each(transient)("transient: %s", (_name, error) => {
    expect(isTransient(error)).toBe(true);
  });

  it.each(deterministic)("not transient: %s", (_name, error) => {
    expect(isTransient(error)).toBe(false);
  });

  it("survives a cause cycle", () => {
    const a = err("a");
    const b = err("b", {}, a);
    (a as { cause?: unknown }).cause = b;
    expect(isTransient(a)).toBe(false);
    expect(errorChain(a)).toEqual([a, b]);
  });
});
