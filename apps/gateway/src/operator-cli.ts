/**
 * `pnpm gateway:operator <command>` — operator accounts, against DATABASE_URL (or the
 * embedded PGlite data directory when it is unset, as the services open it):
 *
 *   add <username> <viewer|operator|admin>   password from stdin (not echoed on a TTY)
 *   hash                                     prints a scrypt hash for GATEWAY_OPERATORS
 *   disable <username>                       disables the account and ends its sessions
 *   list                                     accounts, roles, disabled or not
 *
 * Nothing secret is ever printed: `hash` prints the hash only, never the password.
 */
import { DatabaseConfig, parseConfig } from "@pw/config";
import { openDatabase } from "@pw/service";
import { disableOperator, listOperators, upsertOperator } from "./auth/operators.ts";
import { hashPassword } from "./auth/password.ts";
import { ROLES, type Role, USERNAME } from "./config.ts";

export const MIN_PASSWORD_LENGTH = 12;

const USAGE = `usage: pnpm gateway:operator <command>
  add <username> <${ROLES.join("|")}>   create or update an account (password from stdin)
  hash                                  print a password hash for GATEWAY_OPERATORS
  disable <username>                    disable an account and end its sessions
  list                                  list accounts`;

type Io = {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
};

/** A password: typed without echo on a terminal, else the first line of stdin. */
async function readPassword(io: Io, prompt: string): Promise<string> {
  const { stdin } = io;
  if (stdin.isTTY && stdin.setRawMode) {
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    try {
      return await new Promise<string>((resolve, reject) => {
        let typed = "";
        const onData = (chunk: Buffer | string) => {
          for (const ch of String(chunk)) {
            if (ch === "\r" || ch === "\n" || ch === "\u0004") {
              stdin.off("data", onData);
              process.stderr.write("\n");
              return resolve(typed);
            }
            if (ch === "\u0003") {
              stdin.off("data", onData);
              return reject(new Error("cancelled"));
            }
            if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
            else typed += ch;
          }
        };
        stdin.on("data", onData);
      });
    } finally {
      stdin.setRawMode(false);
      stdin.pause();
    }
  }
  let text = "";
  for await (const chunk of stdin) text += String(chunk);
  return text.split(/\r?\n/)[0] ?? "";
}

async function newPassword(io: Io): Promise<string> {
  const password = await readPassword(io, "password: ");
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new Error(`the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (io.stdin.isTTY && (await readPassword(io, "again: ")) !== password)
    throw new Error("the passwords differ");
  return password;
}

async function withDatabase<T>(
  io: Io,
  fn: (db: Awaited<ReturnType<typeof openDatabase>>["db"]) => Promise<T>,
) {
  const { database } = parseConfig(DatabaseConfig, io.env);
  const handle = await openDatabase(database);
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

/** Runs one command; returns the exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case "hash": {
        io.out(await hashPassword(await newPassword(io)));
        return 0;
      }
      case "add": {
        const [username = "", role = ""] = args;
        if (!USERNAME.test(username)) throw new Error("username: letters, digits, . _ @ - (1–100)");
        if (!ROLES.includes(role as Role))
          throw new Error(`role must be one of ${ROLES.join(", ")}`);
        const passwordHash = await hashPassword(await newPassword(io));
        const outcome = await withDatabase(io, (db) =>
          upsertOperator(db, { username, role: role as Role, passwordHash }),
        );
        io.out(`${username} (${role}) ${outcome === "created" ? "added" : "updated"}`);
        return 0;
      }
      case "disable": {
        const [username = ""] = args;
        const done = await withDatabase(io, (db) => disableOperator(db, username));
        if (!done) throw new Error(`no operator named ${username}`);
        io.out(`${username} disabled; its sessions ended`);
        return 0;
      }
      case "list": {
        const rows = await withDatabase(io, listOperators);
        for (const r of rows)
          io.out(
            `${r.username}\t${r.role}\t${r.disabled ? "disabled" : "active"}\t${r.createdAt.toISOString()}`,
          );
        if (rows.length === 0) io.out("(no operators)");
        return 0;
      }
      default:
        io.err(USAGE);
        return 2;
    }
  } catch (error) {
    io.err(`error: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdin: process.stdin,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  });
}
