// A unix socket in front of containerd's that delays every chunk a client sends by `delayMs` (a slow or loaded
// containerd), or never forwards anything (`stalled`: containerd accepts but does not answer). In-process, so
// the test ends it; connections are destroyed on close.

import net from 'node:net';

export class SlowSocket {
  private readonly conns = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    readonly path: string,
    public delayMs: number,
    public stalled: boolean,
  ) {}

  static async start(path: string, target: string, delayMs: number, stalled = false): Promise<SlowSocket> {
    let self: SlowSocket | undefined;
    const server = net.createServer((client) => {
      const s = self!;
      s.conns.add(client);
      const upstream = net.connect(target);
      s.conns.add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        s.conns.delete(client);
        s.conns.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      // Chunks keep their order: each waits for the one before it, then the delay.
      let chain = Promise.resolve();
      client.on('data', (chunk) => {
        if (s.stalled) return;
        chain = chain.then(() => new Promise<void>((r) => setTimeout(r, s.delayMs))).then(() => void upstream.write(chunk));
      });
      upstream.on('data', (chunk) => {
        if (!s.stalled) client.write(chunk);
      });
    });
    self = new SlowSocket(server, path, delayMs, stalled);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, () => resolve()));
    return self;
  }

  close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}
