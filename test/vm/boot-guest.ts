// Boots the guest under qemu's software emulation (KVM hangs Linux guests on this kind of machine) with no
// network, and collects its serial console. The guest powers itself off (or reboots: with -no-reboot that ends
// qemu too) at the end; past the deadline qemu is killed by its pid.

import { spawn } from 'node:child_process';

export interface GuestBoot {
  kernel: string;
  initrd: string;
  memoryMiB: number;
  cpus: number;
  timeoutMs: number;
  /** A raw disk image, the guest's /dev/vda (virtio). */
  disk?: string;
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
    '-accel',
    'tcg',
    '-m',
    String(opts.memoryMiB),
    '-smp',
    String(opts.cpus),
    '-display',
    'none',
    '-monitor',
    'none',
    '-serial',
    'stdio',
    '-nic',
    'none',
    '-no-reboot',
    '-kernel',
    opts.kernel,
    '-initrd',
    opts.initrd,
    '-append',
    'console=ttyS0 panic=-1 quiet rdinit=/init',
    ...(opts.disk ? ['-drive', `file=${opts.disk},format=raw,if=virtio`] : []),
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const partial = { stdout: '', stderr: '' };
    let timedOut = false;
    // one line buffer per stream, so a qemu message cannot split a console line
    const take = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const parts = (partial[stream] + chunk.toString('utf8')).split(/\r?\n/);
      partial[stream] = parts.pop() ?? '';
      for (const l of parts) {
        lines.push(l);
        opts.onLine?.(l);
      }
    };
    qemu.stdout.on('data', take('stdout'));
    qemu.stderr.on('data', take('stderr'));
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
      for (const rest of [partial.stdout, partial.stderr]) if (rest) lines.push(rest);
      resolve({ lines, exitCode: code, timedOut, ms: Date.now() - started });
    });
  });
}
