"use client";
/**
 * Who is signed in. The session itself is the gateway's httpOnly cookie; this only knows
 * the username, role and CSRF token (from GET /api/me, so a reload recovers them). Any
 * 401 from the API sends the operator to /login and back to where they were afterwards.
 */
import { usePathname, useRouter } from "next/navigation";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from "react";
import { type ApiError, apiGet, apiSend, setCsrfToken, UNAUTHENTICATED } from "./api.ts";

export type Role = "viewer" | "operator" | "admin";
export type Me = { username: string; role: Role; csrfToken: string; expiresAt: string };

type SessionState = {
  me: Me | null;
  /** True while the first /api/me is in flight. */
  loading: boolean;
  error: string | null;
  signIn(username: string, password: string): Promise<Me>;
  signOut(): Promise<void>;
  can(role: Role): boolean;
};

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const router = useRouter();
  const pathname = usePathname();
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const onLogin = pathname === "/login";

  const toLogin = useCallback(() => {
    setMe(null);
    setCsrfToken(undefined);
    if (window.location.pathname !== "/login")
      router.replace(
        `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`,
      );
  }, [router]);

  useEffect(() => {
    window.addEventListener(UNAUTHENTICATED, toLogin);
    return () => window.removeEventListener(UNAUTHENTICATED, toLogin);
  }, [toLogin]);

  useEffect(() => {
    if (onLogin || me) {
      setLoading(false);
      return;
    }
    let cancelled = false;
    setLoading(true);
    apiGet<Me>("/api/me")
      .then((m) => {
        if (cancelled) return;
        setCsrfToken(m.csrfToken);
        setMe(m);
        setError(null);
      })
      .catch((e: ApiError) => {
        if (!cancelled && e.status !== 401) setError(e.message);
      })
      .finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
  }, [onLogin, me]);

  const signIn = useCallback(async (username: string, password: string) => {
    const m = await apiSend<Me>("/api/login", { username, password });
    setCsrfToken(m.csrfToken);
    setMe(m);
    setError(null);
    return m;
  }, []);

  const signOut = useCallback(async () => {
    await apiSend("/api/logout").catch(() => {});
    setMe(null);
    setCsrfToken(undefined);
    router.replace("/login");
  }, [router]);

  const can = useCallback((role: Role) => (me ? RANK[me.role] >= RANK[role] : false), [me]);

  return (
    <SessionContext.Provider value={{ me, loading, error, signIn, signOut, can }}>
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}
