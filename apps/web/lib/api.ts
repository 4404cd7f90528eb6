/**
 * The browser's calls to the gateway (through this origin's /api proxy). GETs are never
 * cached; a non-GET carries the session's CSRF token. A 401 tells the session to send the
 * operator to the sign-in page; every other failure is an ApiError with the gateway's
 * message (status, which field, why), for the page to show.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

export const UNAUTHENTICATED = "pw:unauthenticated";

async function handle<T>(res: Response): Promise<T> {
  if (res.status === 401 && typeof window !== "undefined")
    window.dispatchEvent(new Event(UNAUTHENTICATED));
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    type ErrorBody = { error?: string; message?: string; issues?: unknown };
    const raw = (body ?? {}) as Omit<ErrorBody, "error"> & { error?: unknown };
    // The read routes nest theirs: `{ error: { status, code, message, issues } }`.
    const b: ErrorBody =
      raw.error && typeof raw.error === "object"
        ? (({ code, ...rest }) => ({ ...rest, error: code }))(
            raw.error as ErrorBody & { code?: string },
          )
        : { ...raw, error: typeof raw.error === "string" ? raw.error : undefined };
    const issues = Array.isArray(b.issues)
      ? (b.issues as { field?: string; path?: string; message?: string }[]).map((i) => ({
          field: String(i.field ?? i.path ?? ""),
          message: String(i.message ?? ""),
        }))
      : [];
    throw new ApiError(
      res.status,
      b.error ?? `http_${res.status}`,
      b.message ?? b.error ?? `${res.status} ${res.statusText}`,
      issues,
    );
  }
  return body as T;
}

export async function apiGet<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { cache: "no-store", headers: { accept: "application/json" } });
  } catch (error) {
    throw new ApiError(
      0,
      "network",
      `the dashboard server did not answer (${(error as Error).message})`,
    );
  }
  return handle<T>(res);
}

export async function apiSend<T>(path: string, body?: unknown, method = "POST"): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      cache: "no-store",
      headers: {
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(csrfToken ? { "x-csrf-token": csrfToken } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(
      0,
      "network",
      `the dashboard server did not answer (${(error as Error).message})`,
    );
  }
  return handle<T>(res);
}
