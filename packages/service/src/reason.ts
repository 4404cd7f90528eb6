/**
 * How an error reads in a log line, a readiness reason or a stored quarantine reason: the
 * messages of its cause chain (kafkajs' type and drivers' codes included), never a stack.
 */
import { errorChain } from "@pw/resilience";

export function reasonOf(error: unknown, maxLength = 1_000): string {
  const parts = errorChain(error).map((e) => {
    if (typeof e !== "object" || e === null) return String(e);
    const { name, message, type, code } = e as {
      name?: unknown;
      message?: unknown;
      type?: unknown;
      code?: unknown;
    };
    const label = [name, type ?? code].filter((x) => typeof x === "string" && x).join(" ");
    return `${label ? `${label}: ` : ""}${String(message ?? "")}`.replace(/\s+/g, " ").trim();
  });
  const text = parts.join("; caused by ");
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
