// The FIFOs through which containerd's shim carries a process's stdio (as containerd's own cio.FIFOSet): the shim
// opens the paths it is given; the other ends are ours. They live under the runtime dir (on the run path, which
// kukeond's container shares with the host, so the shim sees the same paths) and go when the process is gone.
//
// Order matters, as the shim opens its write end of stdout with a blocking open(2) while it starts the process:
// our read ends are opened first (O_NONBLOCK, so the open itself never waits), and read only once the start has
// returned (a FIFO without a writer reads as end-of-file). Reading goes through libuv's pipe handles (epoll), never
// through blocking reads on the thread pool, which a silent shell would hold for hours.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const { O_RDONLY, O_RDWR, O_NONBLOCK } = fs.constants;

export type StdioName = 'stdin' | 'stdout' | 'stderr';

export class FifoSet {
  /** Paths for the shim by stream; '' for a stream the process does not have. */
  readonly paths: Record<StdioName, string>;
  private readonly fds = new Map<StdioName, number>();
  private readonly sockets: net.Socket[] = [];

  private constructor(
    readonly dir: string,
    streams: readonly StdioName[],
  ) {
    this.paths = { stdin: '', stdout: '', stderr: '' };
    for (const s of streams) this.paths[s] = path.join(dir, s);
  }

  /** Makes `dir/<stream>` FIFOs (0600) in a fresh directory under `parent` and opens our ends (never blocking). */
  static create(parent: string, streams: readonly StdioName[]): FifoSet {
    fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
    const dir = fs.mkdtempSync(path.join(parent, `${crypto.randomBytes(3).toString('hex')}-`));
    const set = new FifoSet(dir, streams);
    try {
      if (streams.length) execFileSync('mkfifo', ['-m', '600', ...streams.map((s) => set.paths[s])], { stdio: 'ignore' });
      // stdin: read-write, so the open never waits for the shim and the FIFO never sees a spurious end
      for (const s of streams) set.fds.set(s, fs.openSync(set.paths[s], (s === 'stdin' ? O_RDWR : O_RDONLY) | O_NONBLOCK));
    } catch (err) {
      set.close();
      throw err;
    }
    return set;
  }

  /** The process's output stream, readable once the shim holds its write end (after the process started). */
  reader(stream: 'stdout' | 'stderr'): net.Socket | undefined {
    return this.socket(stream, { readable: true, writable: false });
  }

  /** Where the process's stdin is written; ending it gives the process end-of-file. */
  writer(): net.Socket | undefined {
    return this.socket('stdin', { readable: false, writable: true });
  }

  private socket(stream: StdioName, mode: { readable: boolean; writable: boolean }): net.Socket | undefined {
    const fd = this.fds.get(stream);
    if (fd === undefined) return undefined;
    this.fds.delete(stream);
    const sock = new net.Socket({ fd, ...mode });
    this.sockets.push(sock);
    return sock;
  }

  /** Closes our ends and removes the FIFOs. Idempotent. */
  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
    for (const s of this.sockets.splice(0)) s.destroy();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
