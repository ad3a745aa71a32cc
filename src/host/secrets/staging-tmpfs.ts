// The directory staged secrets live in must be memory-only: a tmpfs, so a value never reaches a disk (nor survives
// a reboot). Where the socket directory is not on one already (/run is, on most distributions), kukeon mounts one
// and marks it, and `kuke uninstall` unmounts only a tmpfs carrying that mark.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { KukeonError } from '../../../sdk';

const TMPFS_MAGIC = 0x01021994;
/** Written into the tmpfs kukeon mounted, so uninstall never unmounts one it did not make. */
export const TMPFS_MARK = '.kukeon-tmpfs';

export function onTmpfs(dir: string): boolean {
  try {
    return fs.statfsSync(dir).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/** Makes `dir` (0700) and mounts a tmpfs on it unless it is on one already. */
export function ensureTmpfs(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (onTmpfs(dir)) return;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0700,nosuid,nodev,noexec,size=64m', 'kukeon-secrets', dir], {
    encoding: 'utf8',
  });
  if (r.status !== 0 || !onTmpfs(dir))
    throw new KukeonError(
      'KUKEON_E_STEP',
      `cannot mount a tmpfs for staged secrets on ${dir}: ${(r.stderr || r.error?.message || `mount exited ${r.status}`).trim()}`,
      { hint: 'run as root, or put the socket directory (--socket) on a tmpfs such as /run' },
    );
  fs.writeFileSync(path.join(dir, TMPFS_MARK), '');
}

/** Unmounts the tmpfs kukeon mounted on `dir` (its mark is there); false when there is none of kukeon's. */
export function unmountTmpfs(dir: string): boolean {
  if (!onTmpfs(dir) || !fs.existsSync(path.join(dir, TMPFS_MARK))) return false;
  const r = spawnSync('umount', [dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`umount ${dir} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return true;
}
