/** Ports for the stack's processes: the fixed defaults (checked free first) or any free ones. */
import { createServer, type Server } from "node:net";

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });

const close = (servers: Server[]) =>
  Promise.all(servers.map((s) => new Promise((done) => s.close(done))));

/** The ports of `wanted` that something already listens on. */
export async function portsInUse(wanted: readonly number[]): Promise<number[]> {
  const taken: number[] = [];
  const held: Server[] = [];
  for (const port of wanted) {
    try {
      held.push(await listen(port));
    } catch {
      taken.push(port);
    }
  }
  await close(held);
  return taken;
}

/** `n` distinct ports the OS says are free, all held until all are picked. */
export async function freePorts(n: number): Promise<number[]> {
  const held: Server[] = [];
  try {
    for (let i = 0; i < n; i++) held.push(await listen(0));
    return held.map((s) => {
      const a = s.address();
      if (!a || typeof a !== "object") throw new Error("no port");
      return a.port;
    });
  } finally {
    await close(held);
  }
}
