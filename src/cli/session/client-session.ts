// The client's end of an interactive session (`kuke exec`, `kuke attach`, `kuke run -it`): this process's stdin,
// stdout and stderr as a SessionIO. With a terminal it puts the local one in raw mode and gives it back on every
// way out (the session's end, an error, a daemon that dies, SIGTERM, SIGHUP, process exit), and sends window size
// changes. Detach keys, when given, end the session without ending the process (attach).

import { spawnSync } from 'node:child_process';
import type { ReadStream } from 'node:tty';
import { KukeonError } from '../../../sdk';
import type { SessionIO, SessionInput, TerminalSize } from '../../../sdk';
import { DetachScanner } from './detach-keys';

/** Chunks of stdin read ahead of the session before reading pauses (backpressure on a fast pipe). */
const MAX_QUEUED = 16;

export interface ClientSessionOptions {
  /** Send this process's stdin (`-i`). */
  stdin: boolean;
  /** A terminal (`-t`): stdin must be one. */
  tty: boolean;
  /** Bytes that detach (attach only). */
  detachKeys?: Buffer;
  /** The command's own cancellation (Ctrl-C without a terminal). */
  signal?: AbortSignal;
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
  errors?: NodeJS.WriteStream;
}

export class ClientSession {
  /** Aborted when the client leaves: detach keys, SIGTERM, SIGHUP, or the command's own signal. */
  readonly signal: AbortSignal;
  /** Set when the detach keys ended the session. */
  detached = false;
  private readonly ac = new AbortController();
  private readonly in: NodeJS.ReadStream;
  private readonly out: NodeJS.WriteStream;
  private readonly err: NodeJS.WriteStream;
  private readonly queue: SessionInput[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private raw = false;
  private readonly cleanups: (() => void)[] = [];

  constructor(private readonly opts: ClientSessionOptions) {
    this.in = opts.input ?? process.stdin;
    this.out = opts.output ?? process.stdout;
    this.err = opts.errors ?? process.stderr;
    if (opts.tty && !this.in.isTTY)
      throw new KukeonError('KUKEON_E_USAGE', 'the input device is not a TTY: run without -t (and pipe input with -i), or from a terminal');
    this.signal = opts.signal ? AbortSignal.any([this.ac.signal, opts.signal]) : this.ac.signal;
  }

  /** The terminal's size now (with `tty`). */
  size(): TerminalSize | undefined {
    if (!this.opts.tty) return undefined;
    const cols = this.out.columns || (this.in as unknown as { columns?: number }).columns;
    const rows = this.out.rows || (this.in as unknown as { rows?: number }).rows;
    return cols && rows ? { cols, rows } : undefined;
  }

  /** Starts relaying; call `close()` (in a finally) to give the terminal back. */
  io(): SessionIO {
    const leave = (why: string) => () => this.ac.abort(new KukeonError('KUKEON_E_CANCELLED', why));
    for (const sig of ['SIGTERM', 'SIGHUP'] as const) {
      const fn = leave(`${sig} received`);
      process.on(sig, fn);
      this.cleanups.push(() => process.removeListener(sig, fn));
    }
    const restore = () => this.restoreTerminal();
    process.on('exit', restore);
    this.cleanups.push(() => process.removeListener('exit', restore));

    if (this.opts.tty) {
      (this.in as ReadStream).setRawMode?.(true);
      this.raw = true;
      // libuv's raw mode keeps output processing (ONLCR), so the container's \r\n would print as \r\r\n: raw
      // output as Docker's cfmakeraw. Leaving raw mode restores the terminal as it was, this flag included.
      const fd = (this.in as { fd?: number }).fd;
      if (typeof fd === 'number') spawnSync('stty', ['-opost'], { stdio: [fd, 'ignore', 'ignore'] });
      const resize = () => {
        const size = this.size();
        if (size) this.push({ resize: size });
      };
      process.on('SIGWINCH', resize);
      this.cleanups.push(() => process.removeListener('SIGWINCH', resize));
    }
    if (this.opts.stdin) this.readStdin();
    return {
      input: this.inputs(),
      output: (o) => {
        const stream = o.stream === 'stderr' ? this.err : this.out;
        if (stream.write(o.data)) return;
        return new Promise<void>((resolve) => stream.once('drain', resolve));
      },
    };
  }

  private readStdin(): void {
    const scanner = this.opts.detachKeys ? new DetachScanner(this.opts.detachKeys) : undefined;
    const onData = (chunk: Buffer) => {
      let data = chunk;
      if (scanner) {
        const { pass, detach } = scanner.scan(chunk);
        data = pass;
        if (detach) {
          this.detached = true;
          this.ac.abort(new KukeonError('KUKEON_E_CANCELLED', 'detached'));
        }
      }
      if (data.length) this.push({ stdin: data });
      if (this.queue.length >= MAX_QUEUED) this.in.pause();
    };
    const onEnd = () => this.push({ eof: true });
    this.in.on('data', onData);
    this.in.once('end', onEnd);
    this.cleanups.push(() => {
      this.in.removeListener('data', onData);
      this.in.removeListener('end', onEnd);
      this.in.pause();
    });
  }

  private push(input: SessionInput): void {
    if (this.ended) return;
    this.queue.push(input);
    this.wake?.();
  }

  private async *inputs(): AsyncIterable<SessionInput> {
    while (!this.ended) {
      const next = this.queue.shift();
      if (next) {
        if (this.queue.length < MAX_QUEUED && this.in.isPaused() && this.opts.stdin) this.in.resume();
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  private restoreTerminal(): void {
    if (!this.raw) return;
    this.raw = false;
    (this.in as ReadStream).setRawMode?.(false);
  }

  /** Gives the terminal back and stops reading stdin. Idempotent. */
  close(): void {
    this.ended = true;
    this.wake?.();
    this.restoreTerminal();
    for (const fn of this.cleanups.splice(0)) fn();
    if (this.opts.stdin) (this.in as { unref?: () => void }).unref?.();
  }
}
