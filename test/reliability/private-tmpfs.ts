// A small tmpfs that only kukeon processes of a test see: mounted inside a private mount namespace
// (`unshare -m --propagation private`) held by a `sleep` this module starts, so the host's mount table never
// changes. Commands run in that namespace through `nsenter --mount=/proc/<pid>/ns/mnt`; the test reads and
// writes the tmpfs through `/proc/<pid>/root/<dir>`. Ending the holder (by its pid) takes the mount with it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const PAGE = 4096;

export class PrivateTmpfs {
  private constructor(
    /** Where the tmpfs is mounted inside the namespace (an empty directory of the host, left untouched). */
    readonly dir: string,
    private readonly holder: ChildProcess,
  ) {}

  /** Mounts a tmpfs of `sizeKiB` on `dir` (created if missing) in a new private mount namespace. */
  static async start(dir: string, sizeKiB: number): Promise<PrivateTmpfs> {
    fs.mkdirSync(dir, { recursive: true });
    const script = `mount -t tmpfs -o size=${sizeKiB}k,mode=0755 kukeon-fault "$1" && echo ready && exec sleep infinity`;
    const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const t = new PrivateTmpfs(dir, holder);
    const onExit = () => t.stopSync();
    process.once('exit', onExit);
    holder.once('exit', () => process.removeListener('exit', onExit));
    await new Promise<void>((resolve, reject) => {
      let err = '';
      holder.stderr!.on('data', (d) => (err += d));
      holder.stdout!.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`cannot mount a private tmpfs on ${dir} (exit ${code}): ${err}`)));
    });
    // `sh` exec'd `sleep`: the holder's pid is the namespace's; the mount must be there and only there.
    if (!fs.readFileSync(`/proc/${holder.pid}/mountinfo`, 'utf8').includes(` ${dir} `))
      throw new Error(`no tmpfs on ${dir} in the namespace`);
    if (fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${dir} `)) throw new Error(`${dir} is mounted in the host namespace`);
    return t;
  }

  get pid(): number {
    return this.holder.pid!;
  }

  /** The host-side path of `p` (a path inside the namespace, or relative to the tmpfs). */
  host(p = ''): string {
    return path.join(`/proc/${this.pid}/root`, path.isAbsolute(p) ? p : path.join(this.dir, p));
  }

  /** The command line that runs a program inside the namespace. */
  prefix(): string[] {
    return ['nsenter', `--mount=/proc/${this.pid}/ns/mnt`];
  }

  /** Fills the tmpfs so that exactly `freePages` 4 KiB pages stay free (a filler file that `free` removes). */
  fill(freePages: number): void {
    const filler = this.host('.filler');
    fs.rmSync(filler, { force: true });
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * PAGE);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    }
    // Partial writes may have filled up the last pages: one page at a time.
    try {
      for (;;) fs.writeSync(fd, chunk, 0, PAGE);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    }
    fs.closeSync(fd);
    const size = fs.statSync(filler).size;
    fs.truncateSync(filler, Math.max(0, size - (size % PAGE) - freePages * PAGE));
  }

  free(): void {
    fs.rmSync(this.host('.filler'), { force: true });
  }

  /** Remounts the tmpfs read-only or read-write (inside the namespace: only this tmpfs changes). */
  remount(mode: 'ro' | 'rw'): void {
    const r = spawnSync(this.prefix()[0], [...this.prefix().slice(1), 'mount', '-o', `remount,${mode}`, this.dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`remount ${mode} of ${this.dir}: ${r.stderr}`);
  }

  /** Ends the holder by its pid; the namespace and its tmpfs go with it. */
  stop(): Promise<void> {
    if (this.holder.exitCode !== null || this.holder.signalCode !== null) return Promise.resolve();
    const gone = new Promise<void>((r) => this.holder.once('exit', () => r()));
    this.holder.kill('SIGKILL');
    return gone;
  }

  private stopSync(): void {
    if (this.holder.exitCode === null && this.holder.signalCode === null) this.holder.kill('SIGKILL');
  }
}
