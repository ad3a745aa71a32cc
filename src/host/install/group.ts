// The socket's group (default `kukeon`): made by init when absent (a system group, as docker's), removed by uninstall.

import { spawnSync } from 'node:child_process';
import { KukeonError } from '../../../sdk';
import { groupId } from '../../../sdk';

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new KukeonError('KUKEON_E_INSTALL', `${cmd} ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Makes the group when absent; its gid either way. */
export function ensureGroup(name: string): { gid: number; created: boolean } {
  const known = groupId(name);
  if (known !== undefined) return { gid: known, created: false };
  run('groupadd', ['--system', name]);
  const gid = groupId(name);
  if (gid === undefined) throw new KukeonError('KUKEON_E_INSTALL', `groupadd --system ${name} succeeded but /etc/group has no ${name}`);
  return { gid, created: true };
}

/** Removes the group when present; false when there was none. */
export function removeGroup(name: string): boolean {
  if (groupId(name) === undefined) return false;
  run('groupdel', [name]);
  return true;
}
