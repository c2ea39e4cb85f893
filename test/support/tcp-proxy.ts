import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  holed: boolean;
}

/**
 * A TCP relay on loopback in front of PostgreSQL that can black-hole its connections: `blackhole()`
 * keeps every socket open but drops every byte either way (as a dead NAT entry or a partitioned network
 * does; nobody is told), and connections made while it lasts hang the same way. `restore()` lets new
 * connections through again (the black-holed ones stay dead).
 */
export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private holing = false;
  private server?: Server;
  port = 0;
  connections = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const p = new TcpProxy(targetHost, targetPort);
    await p.listen();
    return p;
  }

  /** `databaseUrl` with its host and port replaced by this relay's. */
  urlFor(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  blackhole(): void {
    this.holing = true;
    for (const p of this.pairs) p.holed = true;
  }

  restore(): void {
    this.holing = false;
  }

  private listen(): Promise<void> {
    this.server = createServer((client) => {
      this.connections++;
      const upstream = connect(this.targetPort, this.targetHost);
      const pair: Pair = { client, upstream, holed: this.holing };
      this.pairs.add(pair);
      client.on('data', (d) => void (!pair.holed && upstream.write(d)));
      upstream.on('data', (d) => void (!pair.holed && client.write(d)));
      const close = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      // A black-holed peer hears nothing, not even that the other side went away.
      client.on('close', close).on('error', close);
      upstream.on('close', () => !pair.holed && close()).on('error', () => !pair.holed && close());
    });
    return new Promise((res, rej) => {
      this.server!.once('error', rej);
      this.server!.listen(0, '127.0.0.1', () => {
        this.port = (this.server!.address() as { port: number }).port;
        res();
      });
    });
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }
}
