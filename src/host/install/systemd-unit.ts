// `kuke init --systemd`: kukeond as a systemd service instead of the system realm's container. The unit ships in
// the repository (packaging/systemd/kukeond.service); init fills in Node, kukeond and the same flags.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './kukeond-mounts';
import type { InstallSettings } from './settings';
import { kukeondArgs, kukeondEnv } from './system-realm';

export const UNIT_TEMPLATE = path.join(PACKAGE_ROOT, 'packaging', 'systemd', 'kukeond.service');
export const UNIT_DIR = '/etc/systemd/system';
export const UNIT_NAME = 'kukeond.service';

/** systemd's quoting of one ExecStart word: double quotes with backslash escapes when it needs them. */
export function quote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1')}"`;
}

export function renderUnit(s: InstallSettings, nodeBinary = process.execPath, template = fs.readFileSync(UNIT_TEMPLATE, 'utf8')): string {
  const execStart = [nodeBinary, ...kukeondArgs(s)].map(quote).join(' ');
  const environment = kukeondEnv(s).map(quote).join(' ');
  return template.replace(/@EXEC_START@/g, execStart).replace(/@ENVIRONMENT@/g, environment);
}

/** Whether systemd is the running service manager (what `sd_booted` checks). */
export function systemdRunning(): boolean {
  return fs.existsSync('/run/systemd/system');
}

/** The directories systemd loads units from: a unit written elsewhere (a test's --unit-dir) is never systemctl'd. */
const SYSTEMD_UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

/** Whether systemd runs here and loads units from `unitDir` (so systemctl acts on the unit written there). */
export function systemdLoads(unitDir: string): boolean {
  return systemdRunning() && SYSTEMD_UNIT_DIRS.includes(path.resolve(unitDir));
}

/** `systemctl ARGS`; the error text on failure. */
export function systemctl(args: string[]): string | undefined {
  const r = spawnSync('systemctl', args, { encoding: 'utf8' });
  if (r.error) return r.error.message;
  return r.status === 0 ? undefined : (r.stderr || r.stdout).trim();
}
