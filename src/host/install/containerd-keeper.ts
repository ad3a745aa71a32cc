// Keeps the kukeon-managed containerd running where no service manager does (systemd not running), as k3s
// supervises its own containerd: a small detached Node process that starts containerd, records its pid, and starts
// it again after it exits (1 s, doubling to 30 s, back to 1 s once it ran 10 s; systemd's unit waits 5 s). SIGTERM
// (kuke uninstall) is passed to containerd, and the keeper exits with it. Nothing keeps the keeper itself, and
// nothing starts either after a reboot: init says so. Run as `node containerd-keeper.js BINARY CONFIG PIDFILE`.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileAtomicSync } from '../../../sdk';

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;
const RESET_AFTER_MS = 10_000;

export function keepContainerd(binary: string, config: string, pidFile: string): void {
  let child: ChildProcess | undefined;
  let stopping = false;
  let delay = FIRST_DELAY_MS;
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} kukeon containerd keeper: ${line}\n`);

  const start = () => {
    if (stopping) return;
    const started = Date.now();
    // stdout and stderr are the keeper's own: init opened the managed containerd's log file for both
    const c = spawn(binary, ['--config', config], { stdio: ['ignore', 'inherit', 'inherit'] });
    child = c;
    if (c.pid) writeFileAtomicSync(pidFile, `${c.pid}\n`, { mode: 0o644 });
    let ended = false;
    // a failed spawn emits only 'error'; an exit only 'exit': either schedules the next start, once
    const end = (what: string) => {
      if (ended) return;
      ended = true;
      if (stopping) process.exit(0);
      const ran = Date.now() - started;
      if (ran >= RESET_AFTER_MS) delay = FIRST_DELAY_MS;
      log(`containerd (pid ${c.pid ?? '-'}) ${what} after ${ran} ms; starting it again in ${delay} ms`);
      setTimeout(start, delay);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    };
    c.on('error', (err) => end(`could not run: ${err.message}`));
    c.on('exit', (code, signal) => end(`exited (${signal ?? `code ${code}`})`));
  };

  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.on(sig, () => {
      stopping = true;
      if (child?.pid && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      else process.exit(0);
    });
  start();
}

if (require.main === module) {
  const [binary, config, pidFile] = process.argv.slice(2);
  if (!binary || !config || !pidFile) {
    process.stderr.write('usage: containerd-keeper BINARY CONFIG PIDFILE\n');
    process.exit(2);
  }
  keepContainerd(binary, config, pidFile);
}
