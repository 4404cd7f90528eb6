"use client";
/**
 * What the signed-in operator may do here: `useRoleGate("operator")` gives whether the
 * role suffices and, when it does not, the sentence a disabled button carries as its
 * title (so a viewer learns why the button is grey, and whom to ask).
 */
import { type Role, useSession } from "../lib/session.tsx";

const WHO: Record<Role, string> = {
  viewer: "anyone signed in",
  operator: "operators and admins",
  admin: "admins",
};

export function useRoleGate(role: Role): { allowed: boolean; why: string | undefined } {
  const { me, can } = useSession();
  const allowed = can(role);
  return {
    allowed,
    why: allowed
      ? undefined
      : `Only ${WHO[role]} can do this — you are signed in as ${me?.role ?? "nobody"}.`,
  };
}
