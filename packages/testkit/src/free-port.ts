// Ports nobody listens on right now (the OS picks them), for servers a test starts itself.
import { createServer, type Server } from "node:net";

const listening = () =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });

/**
 * `n` distinct free ports. Every port is held until all are picked: asked one at a time,
 * the OS may hand back the port it just freed (a broker's two listeners on one port).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listening());
    return servers.map((s) => {
      const address = s.address();
      if (typeof address !== "object" || !address) throw new Error("no port");
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  }
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}
