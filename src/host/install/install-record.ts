// What `kuke init` created on this host, kept under the run path, so `kuke uninstall` removes only that: a group,
// socket directory or containerd config that existed before init (or belongs to another kukeon host) is left alone.

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../../../sdk';

export interface InstallRecord {
  /** The socket group, when init made it (groupadd). */
  createdGroup?: string;
  /** The socket directory, when init made it. */
  createdSocketDir?: string;
  /** The kukeon-managed containerd's config file, when init wrote it. */
  managedContainerdConfig?: string;
}

export function installRecordPath(runPath: string): string {
  return path.join(runPath, 'run', 'install.json');
}

export function readInstallRecord(runPath: string): InstallRecord {
  try {
    return JSON.parse(fs.readFileSync(installRecordPath(runPath), 'utf8')) as InstallRecord;
  } catch {
    return {};
  }
}

/** Adds to the record (a later init never forgets what an earlier one created). */
export function addToInstallRecord(runPath: string, add: InstallRecord): void {
  const current = readInstallRecord(runPath);
  const next = { ...current, ...Object.fromEntries(Object.entries(add).filter(([, v]) => v !== undefined)) };
  if (JSON.stringify(next) === JSON.stringify(current)) return;
  fs.mkdirSync(path.dirname(installRecordPath(runPath)), { recursive: true });
  writeFileAtomicSync(installRecordPath(runPath), `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
}
