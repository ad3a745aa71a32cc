// `ip` and `iptables`, run in the network namespace kukeon runs in (the same one the CNI plugins work in).
// Results are returned, never thrown: callers decide which failures are fine (a bridge already gone).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];

export class HostCommand {
  private readonly found = new Map<string, string>();

  /** `prefix`: a command line to run under (tests: `nsenter --net=/run/netns/NAME`). */
  constructor(private readonly prefix: readonly string[] = []) {}

  /**
   * The absolute path of `name` on PATH or in the sbin directories, or undefined. Only hits are remembered: a
   * long-lived process sees a tool installed after it started.
   */
  which(name: string): string | undefined {
    const known = this.found.get(name);
    if (known) return known;
    let hit: string | undefined;
    for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SBIN]) {
      const p = path.join(dir, name);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        hit = p;
        break;
      } catch {
        // not here
      }
    }
    if (hit) this.found.set(name, hit);
    return hit;
  }

  run(name: string, args: readonly string[], input?: string, timeoutMs = 30_000): Promise<CommandResult> {
    const bin = this.which(name);
    if (!bin) return Promise.resolve({ code: 127, stdout: '', stderr: `${name} not found` });
    const [cmd, ...rest] = [...this.prefix, bin, ...args];
    return new Promise((resolve) => {
      const child = spawn(cmd, rest, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      if (input !== undefined) {
        child.stdin!.on('error', () => undefined);
        child.stdin!.end(input);
      }
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        resolve({ code: 127, stdout, stderr: err.message });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
  }
}
