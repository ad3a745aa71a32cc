// Boots the guest under qemu's software emulation (KVM hangs Linux guests on this kind of machine) with no
// network, and collects its serial console. The guest powers itself off at the end; past the deadline qemu is
// killed by its pid.

import { spawn } from 'node:child_process';

export interface GuestBoot {
  kernel: string;
  initrd: string;
  memoryMiB: number;
  cpus: number;
  timeoutMs: number;
  /** Each console line as it arrives (for progress output). */
  onLine?: (line: string) => void;
}

export interface GuestConsole {
  lines: string[];
  exitCode: number | null;
  timedOut: boolean;
  ms: number;
}

export function bootGuest(opts: GuestBoot): Promise<GuestConsole> {
  const args = [
    '-accel', 'tcg', '-m', String(opts.memoryMiB), '-smp', String(opts.cpus),
    '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-nic', 'none', '-no-reboot',
    '-kernel', opts.kernel, '-initrd', opts.initrd,
    '-append', 'console=ttyS0 panic=-1 quiet rdinit=/init',
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let partial = '';
    let timedOut = false;
    const take = (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const l of parts) {
        lines.push(l);
        opts.onLine?.(l);
      }
    };
    qemu.stdout.on('data', take);
    qemu.stderr.on('data', take);
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill('SIGKILL');
    }, opts.timeoutMs);
    qemu.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    qemu.on('close', (code) => {
      clearTimeout(timer);
      if (partial) lines.push(partial);
      resolve({ lines, exitCode: code, timedOut, ms: Date.now() - started });
    });
  });
}
