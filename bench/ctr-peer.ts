// The peer kukeon's cell start is measured against: per cell, two `ctr run -d` in the harness netns, a pause root
// (catatonit bind-mounted into an empty rootfs, as kukeon's synthesized root) and a workload joining the root's
// network namespace. Shared by bench/cell-start.ts and bench/daemon.ts, so both compare with the same thing.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { E2EHarness } from '../test/e2e/harness';

export interface CtrPeer {
  /** `ctr ARGS` in the peer's namespace; its stdout. */
  ctr(args: string[]): string;
  /** Starts the pair `<id>-root` and `<id>-w`; `onRoot` runs between them with the root's pid (a network ADD). */
  pair(id: string, onRoot?: (pid: string) => void): void;
  /** Kills and removes every task and container of the namespace (not timed). */
  cleanup(): void;
}

export function ctrPeer(h: E2EHarness, namespace: string, image: string): CtrPeer {
  const argv = (args: string[]) => [`--net=${h.netnsPath}`, 'ctr', '-a', h.socket, '-n', namespace, ...args];
  const ctr = (args: string[]) => execFileSync('nsenter', argv(args), { encoding: 'utf8' });
  const raw = (args: string[]) => spawnSync('nsenter', argv(args));
  const rootfs = path.join(h.tmp, 'ctr-rootfs');
  for (const d of ['proc', 'dev', 'sys', 'etc', 'tmp', 'run', '.kukeon']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.writeFileSync(path.join(rootfs, '.kukeon/pause'), '');
  return {
    ctr,
    pair(id, onRoot) {
      ctr([
        'run',
        '-d',
        '--cgroup',
        `/${h.cgroupRoot}/${id}-root`,
        '--mount',
        'type=bind,src=/usr/bin/catatonit,dst=/.kukeon/pause,options=rbind:ro',
        '--rootfs',
        rootfs,
        `${id}-root`,
        '/.kukeon/pause',
        '-P',
      ]);
      const pid = ctr(['tasks', 'ls'])
        .split('\n')
        .find((l) => l.startsWith(`${id}-root `))!
        .trim()
        .split(/\s+/)[1];
      onRoot?.(pid);
      ctr([
        'run',
        '-d',
        '--cgroup',
        `/${h.cgroupRoot}/${id}-w`,
        '--with-ns',
        `network:/proc/${pid}/ns/net`,
        image,
        `${id}-w`,
        'sleep',
        '300',
      ]);
    },
    cleanup() {
      for (const id of ctr(['tasks', 'ls', '-q']).split('\n').filter(Boolean)) raw(['tasks', 'kill', '-s', 'SIGKILL', id]);
      for (const id of ctr(['containers', 'ls', '-q']).split('\n').filter(Boolean)) {
        for (let i = 0; i < 50; i++) {
          const r = raw(['tasks', 'delete', id]);
          if (r.status === 0 || /not found/.test(String(r.stderr))) break;
          execFileSync('sleep', ['0.05']);
        }
        ctr(['containers', 'delete', id]);
      }
    },
  };
}
