// The write bodies Lightfield documents for notes and tasks: bare values under `fields`,
// related ids under `relationships` (a single id on create), and the Idempotency-Key rule.
import { LightfieldRequestError } from "./errors.ts";

export const TASK_STATUSES = ["TODO", "IN_PROGRESS", "COMPLETE", "CANCELLED"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Lightfield refuses longer keys with a 400; we refuse them before sending. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export type NoteInput = {
  title: string;
  /** Markdown. */
  content: string;
  accountId?: string;
  opportunityId?: string;
};

export type TaskInput = {
  title: string;
  /** Markdown. */
  description?: string;
  /** Default `TODO`. */
  status?: TaskStatus;
  /** A workspace member id (required by Lightfield). */
  assignedTo: string;
  /** A Date, or an ISO 8601 string sent as is. */
  dueAt?: Date | string;
  accountId?: string;
  opportunityId?: string;
};

export type WriteBody = {
  fields: Record<string, unknown>;
  relationships?: Record<string, string | string[]>;
};

export function noteBody(input: NoteInput): WriteBody {
  return withRelationships(
    { fields: { $title: input.title, $content: input.content } },
    { $account: input.accountId, $opportunity: input.opportunityId },
  );
}

export function taskBody(input: TaskInput): WriteBody {
  const fields: Record<string, unknown> = {
    $title: input.title,
    $status: input.status ?? "TODO",
  };
  if (input.description !== undefined) fields.$description = input.description;
  if (input.dueAt !== undefined)
    fields.$dueAt = input.dueAt instanceof Date ? input.dueAt.toISOString() : input.dueAt;
  return withRelationships(
    { fields },
    {
      $assignedTo: input.assignedTo,
      $account: input.accountId,
      $opportunity: input.opportunityId,
    },
  );
}

function withRelationships(
  body: WriteBody,
  relationships: Record<string, string | undefined>,
): WriteBody {
  const set = Object.entries(relationships).filter(
    (e): e is [string, string] => e[1] !== undefined,
  );
  return set.length ? { ...body, relationships: Object.fromEntries(set) } : body;
}

/**
 * Throws a non-transient `LightfieldRequestError` for a key Lightfield would refuse (empty,
 * over 255 characters) or one that cannot travel in a header (outside printable ASCII).
 */
export function checkIdempotencyKey(key: string): void {
  if (typeof key !== "string" || key.length === 0)
    throw new LightfieldRequestError(
      "idempotency_key_missing",
      "An Idempotency-Key is required on Lightfield writes",
      "Idempotency-Key",
    );
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    throw new LightfieldRequestError(
      "idempotency_key_too_long",
      `Idempotency-Key is ${key.length} characters; Lightfield accepts at most ${MAX_IDEMPOTENCY_KEY_LENGTH}`,
      "Idempotency-Key",
    );
  if (!/^[\x20-\x7e]+$/.test(key))
    throw new LightfieldRequestError(
      "idempotency_key_invalid",
      "Idempotency-Key must be printable ASCII (it travels in an HTTP header)",
      "Idempotency-Key",
    );
}
