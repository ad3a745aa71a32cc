// Starts a real kukeond (`node bin/kukeond.js`) for a test and ends it by its pid: gracefully (SIGTERM) or as a
// crash (SIGKILL). The environment is scrubbed of KUKEON_* so nothing on the machine steers it.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, childEnv } from './kuke';

export const KUKEOND_BIN = path.join(REPO_ROOT, 'bin', 'kukeond.js');

export interface DaemonOptions {
  socket: string;
  runPath: string;
  config: string;
  env?: Record<string, string | undefined>;
  /** The kukeond script to run (default: the checkout's bin/kukeond.js). */
  bin?: string;
  /** Runs it through this command first (for example `nsenter --net=...`). */
  prefix?: string[];
  readyTimeoutMs?: number;
}

export interface Daemon {
  pid: number;
  socket: string;
  stderr(): string;
  /** Resolves with the exit code (or signal) once it has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL (a crash), then waits for the exit. */
  kill(): Promise<void>;
}

/** Starts kukeond and resolves once it serves (its "serving" line), or rejects with its output. */
export function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const args = [opts.bin ?? KUKEOND_BIN, '--socket', opts.socket, '--run-path', opts.runPath, '--config', opts.config];
  const [cmd, ...rest] = opts.prefix?.length ? [...opts.prefix, process.execPath, ...args] : [process.execPath, ...args];
  const child = spawn(cmd, rest, { cwd: REPO_ROOT, env: childEnv(opts.env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise<Daemon>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kukeond did not start within ${opts.readyTimeoutMs ?? 20_000} ms: ${stderr}`));
    }, opts.readyTimeoutMs ?? 20_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (/ serving /.test(stderr)) {
        clearTimeout(timer);
        resolve(daemon);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`kukeond exited (${code ?? signal}) before serving: ${stderr}`));
    });
    const daemon: Daemon = {
      pid: child.pid ?? -1,
      socket: opts.socket,
      stderr: () => stderr,
      exited,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return exited;
      },
      async kill() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    };
  });
}
