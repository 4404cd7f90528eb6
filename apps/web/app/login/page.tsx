"use client";
import { useRouter, useSearchParams } from "next/navigation";
import { type FormEvent, Suspense, useState } from "react";
import type { ApiError } from "../../lib/api.ts";
import { useSession } from "../../lib/session.tsx";

function LoginForm() {
  const { signIn } = useSession();
  const router = useRouter();
  const params = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(form.get("username") ?? ""), String(form.get("password") ?? ""));
      const next = params.get("next");
      // Only a path of this site: never an absolute URL from the query string.
      router.replace(next?.startsWith("/") && !next.startsWith("//") ? next : "/");
    } catch (err) {
      const e2 = err as ApiError;
      setError(
        e2.status === 401
          ? "Wrong username or password."
          : e2.status === 429
            ? "Too many attempts: wait a minute and try again."
            : e2.message,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="login card" onSubmit={submit} aria-labelledby="login-title">
      <h1 id="login-title">Pipeline Whisperer</h1>
      <p className="muted">Sign in to the command center.</p>
      <label htmlFor="username">Username</label>
      <input id="username" name="username" autoComplete="username" required />
      <label htmlFor="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
      />
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
      <p className="muted small">
        No account? An admin adds one with{" "}
        <code>pnpm gateway:operator add &lt;name&gt; &lt;role&gt;</code>.
      </p>
    </form>
  );
}

export default function LoginPage() {
  return (
    <Suspense fallback={<p role="status">Loading…</p>}>
      <LoginForm />
    </Suspense>
  );
}
