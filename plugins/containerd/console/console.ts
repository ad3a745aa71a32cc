// One attachable container's terminal, owned by kukeond: the shim's FIFOs, opened without ever blocking. Its
// output is read all the time, appended to the container's log and relayed to every attached client; what a
// client types goes to the terminal's input. The output's end (the shim closes its side once the process
// exited) ends every attach with the exit code. Without a terminal (`terminal: false`) the same holds for its
// pipes: stdout and stderr are read apart and relayed with their stream, and stdin exists only when kept open.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { AttachResult, SessionIO, SessionInput, TerminalSize } from '../../../sdk';
import { type ConsoleMeta, type FifoPaths, hasStdin } from './fifos';

/** What a console asks of the runtime. */
export interface ConsoleDeps {
  resize(size: TerminalSize): Promise<void>;
  /** Closes the task's stdin at the runtime (the shim holds its FIFO open, so only it can end it). */
  closeStdin(): Promise<void>;
  /** How the process ended, once the output has ended (undefined when nobody can tell any more). */
  exitCode(): Promise<number | undefined>;
  log: (format: string, ...args: unknown[]) => void;
  /** Sees every chunk (and the end) first, before any client. */
  observe?: (event: { stream: 'stdout' | 'stderr'; data: Uint8Array } | { end: true }) => void;
}

/** The output before the first attach, for it (a `kuke run -it` attaches just after the start): at most this much. */
const BACKLOG_MAX = 16 * 1024;
/** Output a client has not taken yet beyond this is dropped for that client: a slow client holds nobody up. */
const CLIENT_PENDING_MAX = 1024 * 1024;
/** How long the end of a terminal waits for a client to take its last output. */
const CLIENT_FLUSH_MS = 1_000;

interface Client {
  io: SessionIO;
  pending: Promise<void>;
  pendingBytes: number;
  finish(result: AttachResult): void;
}

export class Console {
  private readonly out: net.Socket;
  private readonly err: net.Socket | undefined;
  private readonly input: net.Socket | undefined;
  /** Output streams still open: the output has ended once each has. */
  private openOutputs: number;
  private readonly logFile: fs.WriteStream;
  private readonly clients = new Set<Client>();
  private backlog: { stream: 'stdout' | 'stderr'; data: Buffer }[] | undefined = [];
  private backlogBytes = 0;
  private ended: Promise<number | undefined> | undefined;
  private closed = false;
  /** The task's process, once known (an exit status is only its own). */
  pid: number | undefined;
  /** The process this daemon started to hold the input open (stdin-once ends it). */
  private holder: number | undefined;

  /** Opens both FIFOs (never blocking: the output for reading, the input for reading and writing). */
  constructor(
    readonly paths: FifoPaths,
    readonly meta: ConsoleMeta,
    private readonly deps: ConsoleDeps,
    private readonly onEnded: () => void,
  ) {
    const { O_RDONLY, O_RDWR, O_NONBLOCK } = fs.constants;
    const pipes = meta.terminal === false;
    const opened: number[] = [];
    let outFd: number;
    let errFd: number | undefined;
    let inFd: number | undefined;
    try {
      outFd = fs.openSync(paths.stdout, O_RDONLY | O_NONBLOCK);
      opened.push(outFd);
      if (pipes) opened.push((errFd = fs.openSync(paths.stderr, O_RDONLY | O_NONBLOCK)));
      if (hasStdin(meta)) opened.push((inFd = fs.openSync(paths.stdin, O_RDWR | O_NONBLOCK)));
    } catch (err) {
      for (const fd of opened) fs.closeSync(fd);
      throw err;
    }
    fs.mkdirSync(path.dirname(meta.logPath), { recursive: true });
    this.logFile = fs.createWriteStream(meta.logPath, { flags: 'a' });
    this.logFile.on('error', (e) => deps.log('%s: log %s: %s', meta.containerdId, meta.logPath, e.message));
    this.out = new net.Socket({ fd: outFd, readable: true, writable: false });
    this.err = errFd === undefined ? undefined : new net.Socket({ fd: errFd, readable: true, writable: false });
    this.input = inFd === undefined ? undefined : new net.Socket({ fd: inFd, readable: false, writable: true });
    this.openOutputs = this.err ? 2 : 1;
    this.input?.on('error', (e) => deps.log('%s: terminal input: %s', meta.containerdId, e.message));
    for (const [stream, socket] of [
      ['stdout', this.out],
      ['stderr', this.err],
    ] as const) {
      socket?.on('error', (e) => deps.log('%s: %s: %s', meta.containerdId, stream, e.message));
      socket?.on('data', (chunk: Buffer) => this.output(chunk, stream));
      socket?.on('end', () => {
        this.openOutputs -= 1;
        if (this.openOutputs === 0) void this.end();
      });
    }
  }

  /**
   * Keeps a writer of the input FIFO open outside kukeond: the shim ends the terminal (and with it the process)
   * when its input reaches end-of-file, which a daemon's exit or restart would otherwise cause. `tail --pid`
   * exits by itself once the container's process is gone.
   */
  hold(pid: number): void {
    if (!this.input) return; // no stdin: nothing to keep open
    const fd = fs.openSync(this.paths.stdin, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    try {
      const child = spawn('tail', [`--pid=${pid}`, '-f', '/dev/null'], { stdio: [fd, 'ignore', 'ignore'], detached: true });
      child.on('error', (e) => this.deps.log('%s: stdin holder: %s', this.meta.containerdId, e.message));
      child.unref();
      this.holder = child.pid;
    } finally {
      fs.closeSync(fd);
    }
  }

  private output(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    this.logFile.write(chunk);
    this.deps.observe?.({ stream, data: chunk });
    if (this.backlog) {
      this.backlog.push({ stream, data: chunk });
      this.backlogBytes += chunk.length;
      if (this.backlogBytes > BACKLOG_MAX) this.backlog = undefined; // a long output is in the log instead
    }
    for (const c of this.clients) this.deliver(c, chunk, stream);
  }

  private deliver(c: Client, data: Buffer, stream: 'stdout' | 'stderr'): void {
    if (c.pendingBytes > CLIENT_PENDING_MAX) return;
    c.pendingBytes += data.length;
    c.pending = c.pending
      .then(() => c.io.output({ stream, data }))
      .catch(() => undefined)
      .finally(() => {
        c.pendingBytes -= data.length;
      });
  }

  /** Relays until the process exits (its exit code) or `signal` aborts (detached; the container runs on). */
  attach(io: SessionIO, opts: { stdin?: boolean; size?: TerminalSize }, signal?: AbortSignal): Promise<AttachResult> {
    if (this.ended) return this.ended.then((exitCode) => ({ detached: false, exitCode }));
    return new Promise<AttachResult>((resolve) => {
      let done = false;
      const client: Client = {
        io,
        pending: Promise.resolve(),
        pendingBytes: 0,
        finish: (result) => {
          if (done) return;
          done = true;
          this.clients.delete(client);
          signal?.removeEventListener('abort', detach);
          resolve(result);
        },
      };
      const detach = () => client.finish({ detached: true });
      if (signal?.aborted) return detach();
      signal?.addEventListener('abort', detach, { once: true });
      this.clients.add(client);
      if (this.backlog) for (const chunk of this.backlog) this.deliver(client, chunk.data, chunk.stream);
      this.backlog = undefined;
      if (opts.size) this.resize(opts.size);
      if (opts.stdin !== false && io.input && this.input) void this.pumpInput(this.input, io.input, () => done);
    });
  }

  private resize(size: TerminalSize): void {
    if (this.meta.terminal === false) return; // pipes have no size
    this.deps.resize(size).catch((e) => this.deps.log('%s: resize: %s', this.meta.containerdId, (e as Error).message));
  }

  /** A client's keys go to the terminal; its end of input closes nothing (the terminal is shared and outlives it). */
  private async pumpInput(target: net.Socket, input: AsyncIterable<SessionInput>, gone: () => boolean): Promise<void> {
    try {
      for await (const m of input) {
        if (gone() || this.closed) break;
        if ('stdin' in m) {
          // backpressure: a terminal nobody reads must not make the daemon hold whatever clients send
          if (!target.write(m.stdin) && !target.destroyed)
            await new Promise<void>((resolve) => {
              const done = () => {
                target.off('drain', done);
                target.off('close', done);
                resolve();
              };
              target.once('drain', done);
              target.once('close', done);
            });
        } else if ('resize' in m) this.resize(m.resize);
        else if ('eof' in m && this.meta.stdinOnce) {
          this.closeStdin();
          break;
        }
      }
    } catch (err) {
      this.deps.log('%s: client input: %s', this.meta.containerdId, (err as Error).message);
    }
  }

  /** stdin-once: the task's stdin reaches its end (every writer closed: this daemon's and the holder it started). */
  private closeStdin(): void {
    this.deps.closeStdin().catch((e) => this.deps.log('%s: closing stdin: %s', this.meta.containerdId, (e as Error).message));
    this.input?.destroy();
    if (this.holder !== undefined) {
      try {
        process.kill(this.holder, 'SIGTERM');
      } catch {
        // it has exited with the task
      }
      this.holder = undefined;
    }
  }

  /** The output ended (or the task was deleted, with its exit code): every client gets the exit code. */
  end(exitCode?: number): Promise<number | undefined> {
    this.ended ??= (async () => {
      this.deps.observe?.({ end: true });
      const code = exitCode ?? (await this.deps.exitCode().catch(() => undefined));
      await Promise.all(
        [...this.clients].map(async (c) => {
          // a client that stopped reading gets a second to take the last output; stop and delete never wait on it
          await Promise.race([c.pending, new Promise((r) => setTimeout(r, CLIENT_FLUSH_MS).unref())]);
          c.finish({ detached: false, exitCode: code });
        }),
      );
      this.close();
      this.onEnded();
      return code;
    })();
    return this.ended;
  }

  /** Lets go of the FIFOs and the log (clients still attached are ended by end()). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.destroy();
    this.err?.destroy();
    this.input?.destroy();
    this.logFile.end();
  }
}
