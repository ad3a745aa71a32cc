// How the kukeon-managed containerd is kept running: where systemd is the service manager, as the unit
// kukeon-containerd.service (packaging/systemd/, restarted after a crash, started at boot); elsewhere by kukeon's
// keeper, a detached process that restarts it after a crash but that nothing starts after a reboot, as init says.

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../../../sdk';
import { PACKAGE_ROOT } from './kukeond-mounts';
import type { ManagedContainerdFiles } from './managed-containerd';
import { startManagedContainerd } from './managed-containerd';
import { quote, systemctl, systemdLoads } from './systemd-unit';

export const CONTAINERD_UNIT_TEMPLATE = path.join(PACKAGE_ROOT, 'packaging', 'systemd', 'kukeon-containerd.service');
export const CONTAINERD_UNIT_NAME = 'kukeon-containerd.service';

/** The service manager as init and uninstall see it; tests pass a stand-in. */
export interface ServiceManager {
  /** Whether systemd runs and loads units from `unitDir` (a test's temp unit dir is never systemctl'd). */
  running(unitDir: string): boolean;
  /** `systemctl ARGS`; the error text on failure. */
  systemctl(args: string[]): string | undefined;
}

export const SYSTEMD: ServiceManager = { running: systemdLoads, systemctl };

export function renderContainerdUnit(binary: string, config: string, template = fs.readFileSync(CONTAINERD_UNIT_TEMPLATE, 'utf8')): string {
  return template.replace(/@EXEC_START@/g, [binary, '--config', config].map(quote).join(' '));
}

export type ManagedStart =
  | { how: 'unit'; file: string; fileAction: 'created' | 'updated' | 'unchanged' }
  | { how: 'detached'; pid: number };

/** Starts the managed containerd: as the unit where systemd runs, else under the keeper (the caller warns about reboots). */
export function superviseManagedContainerd(
  binary: string,
  files: ManagedContainerdFiles,
  unitDir: string,
  sm: ServiceManager = SYSTEMD,
  startDetached: (binary: string, files: ManagedContainerdFiles) => number = startManagedContainerd,
): ManagedStart {
  if (!sm.running(unitDir)) return { how: 'detached', pid: startDetached(binary, files) };
  const file = path.join(unitDir, CONTAINERD_UNIT_NAME);
  const text = renderContainerdUnit(binary, files.config);
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (current !== text) {
    fs.mkdirSync(unitDir, { recursive: true });
    writeFileAtomicSync(file, text, { mode: 0o644 });
  }
  // enable --now of a running unit changes nothing: a second init is idempotent
  for (const args of [['daemon-reload'], ['enable', '--now', CONTAINERD_UNIT_NAME]]) {
    const err = sm.systemctl(args);
    if (err) throw new Error(`systemctl ${args.join(' ')} failed: ${err}`);
  }
  return { how: 'unit', file, fileAction: current === undefined ? 'created' : current === text ? 'unchanged' : 'updated' };
}

/** Disables, stops and removes the unit (before containerd's pid is looked for: systemd would start it again). */
export function removeContainerdUnit(unitDir: string, sm: ServiceManager = SYSTEMD): boolean {
  const file = path.join(unitDir, CONTAINERD_UNIT_NAME);
  if (!fs.existsSync(file)) return false;
  if (sm.running(unitDir)) {
    const err = sm.systemctl(['disable', '--now', CONTAINERD_UNIT_NAME]);
    if (err) throw new Error(`systemctl disable --now ${CONTAINERD_UNIT_NAME} failed: ${err}`);
  }
  fs.rmSync(file);
  if (sm.running(unitDir)) sm.systemctl(['daemon-reload']);
  return true;
}

/** What init says where it had to start containerd under the keeper (no systemd). */
export function unsupervisedWarning(binary: string, config: string): string {
  return (
    "warning: systemd is not running here: kukeon's keeper (a detached process) restarts this containerd after a crash, " +
    `but nothing starts it after a reboot (run kuke init again); for that, boot with systemd (kuke init then installs ${CONTAINERD_UNIT_NAME}) ` +
    `or run \`${binary} --config ${config}\` under your service manager\n`
  );
}
