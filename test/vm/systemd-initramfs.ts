// The systemd guest's initramfs: everything the cgroup v2 guest has (guestBase), plus systemd as PID 1 with
// journald, the unit files a boot, a reboot and a poweroff go through, groupadd and groupdel (`kuke init` makes the
// socket's group), bash for ldd (init lists Node's libraries for the kukeond container), the overlay and virtio
// disk modules, and the scenario from test/vm/systemd-guest/. Host binaries at their own paths, as guestBase's.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeCpio } from '../helpers/cpio-writer';
import type { GuestKernel } from './guest-kernel';
import { guestBase } from './guest-initramfs';

export const SYSTEMD_GUEST_BINARIES = [
  '/lib/systemd/systemd',
  '/lib/systemd/systemd-shutdown',
  '/lib/systemd/systemd-journald',
  '/usr/bin/systemctl',
  '/usr/bin/journalctl',
  '/usr/sbin/groupadd',
  '/usr/sbin/groupdel',
  '/bin/bash',
  '/usr/bin/ldd',
] as const;

const UNITS = '/lib/systemd/system';
/** Units beside every *.target: the ones that end a boot, and journald's. */
const SERVICE_UNITS = [
  'systemd-reboot.service',
  'systemd-poweroff.service',
  'systemd-halt.service',
  'systemd-journald.service',
  'systemd-journald.socket',
  'systemd-journald-dev-log.socket',
  'systemd-journald-audit.socket',
];

export interface SystemdInitramfsInput {
  out: string;
  repoRoot: string;
  kernel: GuestKernel;
  imageArchive: string;
}

/** Builds the initramfs at `input.out`; returns its size in bytes. */
export function buildSystemdGuestInitramfs(input: SystemdInitramfsInput): number {
  const { repoRoot } = input;
  const guestDir = path.join(repoRoot, 'test', 'vm', 'systemd-guest');
  const list = guestBase(repoRoot);
  for (const ko of [...input.kernel.diskModules, input.kernel.overlayKo]) list.copy(ko, `lib/modules/${path.basename(ko)}`);
  for (const bin of SYSTEMD_GUEST_BINARIES) {
    if (!fs.existsSync(bin)) throw new Error(`the systemd guest needs ${bin}, which is not on this machine (.ci/run installs systemd)`);
    list.copyWithLibraries(bin);
  }
  // no .wants directories of the host's: the guest starts only journald and what kuke init enables
  for (const f of fs.readdirSync(UNITS).filter((n) => n.endsWith('.target'))) list.copy(path.join(UNITS, f));
  for (const f of SERVICE_UNITS) list.copy(path.join(UNITS, f));
  for (const [target, unit] of [
    ['sysinit.target', 'systemd-journald.service'],
    ['sockets.target', 'systemd-journald.socket'],
    ['sockets.target', 'systemd-journald-dev-log.socket'],
  ])
    list.add({ type: 'symlink', path: `${UNITS}/${target}.wants/${unit}`, target: `../${unit}` });
  list.add({ type: 'symlink', path: 'etc/systemd/system/default.target', target: `${UNITS}/multi-user.target` });
  list.copy(path.join(guestDir, 'kt-scenario.service'), 'etc/systemd/system/kt-scenario.service');
  list.add({ type: 'symlink', path: 'etc/systemd/system/multi-user.target.wants/kt-scenario.service', target: '../kt-scenario.service' });

  const etc = (name: string, content: string) => list.add({ type: 'file', path: `etc/${name}`, data: content, mode: 0o644 });
  etc('passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  etc('group', 'root:x:0:\n');
  etc('machine-id', 'f0e1d2c3b4a5968778695a4b3c2d1e0f\n');
  etc('hostname', 'kukeon-guest\n');
  list.copy('/etc/login.defs');
  list.copy('/etc/os-release');

  list.copy(path.join(repoRoot, 'test', 'vm', 'guest', 'kukeon.yaml'), 'etc/kukeon/kukeon.yaml');
  list.copy(path.join(guestDir, 'init'), 'init');
  list.copy(path.join(guestDir, 'scenario.sh'), 'kt/scenario.sh');
  list.copy(path.join(guestDir, 'cell.yaml'), 'kt/cell.yaml');
  list.copy(input.imageArchive, 'kt/busybox-oci.tar');
  return writeCpio(input.out, list.sorted());
}
