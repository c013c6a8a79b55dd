/**
 * A TCP proxy (node:net) in front of a real server that can fail the way networks do: `refuse` (nothing listens: new
 * connections get ECONNREFUSED, open ones are reset), `blackhole` (connections are accepted and bytes swallowed, nothing
 * ever comes back: open ones too), and `pass` again (the same port listens and forwards).
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type FaultMode = 'pass' | 'refuse' | 'blackhole';

export class FaultProxy {
  private server: Server;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket | null }>();
  mode: FaultMode = 'pass';
  port = 0;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = this.makeServer();
  }

  static async start(targetUrl: string): Promise<FaultProxy> {
    const u = new URL(targetUrl);
    const p = new FaultProxy({ host: u.hostname, port: Number(u.port) });
    await new Promise<void>((res) => p.server.listen(0, '127.0.0.1', res));
    p.port = (p.server.address() as AddressInfo).port;
    return p;
  }

  /** `targetUrl` with its host and port replaced by the proxy's. */
  url(targetUrl: string): string {
    const u = new URL(targetUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  private makeServer(): Server {
    return createServer((client) => {
      client.on('error', () => undefined);
      const pair = { client, upstream: null as Socket | null };
      this.pairs.add(pair);
      client.on('close', () => {
        pair.upstream?.destroy();
        this.pairs.delete(pair);
      });
      if (this.mode === 'blackhole') {
        client.on('data', () => undefined);
        return;
      }
      const upstream = connect(this.target.port, this.target.host);
      pair.upstream = upstream;
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => client.destroy());
      client.on('data', (d) => {
        if (this.mode === 'pass') upstream.write(d);
      });
      upstream.on('data', (d) => {
        if (this.mode === 'pass') client.write(d);
      });
    });
  }

  async set(mode: FaultMode): Promise<void> {
    if (mode === this.mode) return;
    const was = this.mode;
    this.mode = mode;
    if (mode === 'refuse') {
      for (const p of this.pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      await new Promise<void>((res) => this.server.close(() => res()));
      return;
    }
    if (was === 'refuse') {
      this.server = this.makeServer();
      await new Promise<void>((res, rej) => {
        this.server.once('error', rej);
        this.server.listen(this.port, '127.0.0.1', () => res());
      });
    }
    // blackhole: open connections stay open and silent (the data handlers above drop bytes both ways)
    // pass after blackhole: connections that swallowed bytes are out of step with their server; reset them
    if (mode === 'pass' && was === 'blackhole')
      for (const p of this.pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream?.destroy();
    }
    if (this.mode !== 'refuse') await new Promise<void>((res) => this.server.close(() => res()));
  }
}
