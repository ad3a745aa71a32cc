// A container's user as Docker resolves it (runc's GetExecUser): `user[:group]`, each a name or a number. A name
// must be in the image's /etc/passwd (or /etc/group); a number need not be. Without a group: the passwd entry's
// gid (0 when the uid has none) and, as supplementary groups, every /etc/group entry listing the user.

import { KukeonError } from '../../sdk';

export interface ExecUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

/** The image's account files; undefined when the image has none. */
export interface EtcFiles {
  passwd?: string;
  group?: string;
}

const numeric = (s: string) => /^\d+$/.test(s);

/** True when resolving `user` needs the image's files (a name, or a uid without a group). */
export function needsEtcFiles(user: string | undefined): boolean {
  if (!user || user === 'root' || user === '0') return false;
  const [u, g] = user.split(':');
  return !(numeric(u) && g !== undefined && numeric(g));
}

const rows = (text: string | undefined) =>
  (text ?? '')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));

/** `field` names the manifest field in errors (`containers.app.user`). */
export function resolveExecUser(user: string | undefined, files: EtcFiles, field: string): ExecUser {
  // The primary gid leads the supplementary groups, as containerd's ensureAdditionalGids (CVE-2023-25173) and Docker
  // set them: a file whose group is the primary one stays readable after a process drops to its groups.
  if (!user || user === 'root' || user === '0') return { uid: 0, gid: 0, additionalGids: [0] };
  const [u, g] = user.split(':');
  const fail = (msg: string): never => {
    throw new KukeonError('KUKEON_E_INVALID', `${field} "${user}": ${msg}`, { field, plugin: 'containerd' });
  };
  const entry = rows(files.passwd).find((r) => r[0] === u || (numeric(u) && r[2] === u));
  if (!entry && !numeric(u))
    fail(files.passwd === undefined ? `the image has no /etc/passwd to look up "${u}" in` : `no user "${u}" in the image's /etc/passwd`);
  const uid = Number(entry ? entry[2] : u);
  let gid = entry ? Number(entry[3]) : 0;
  const groups = rows(files.group);
  if (g !== undefined) {
    if (numeric(g)) gid = Number(g);
    else {
      const grp = groups.find((r) => r[0] === g);
      if (!grp)
        fail(files.group === undefined ? `the image has no /etc/group to look up "${g}" in` : `no group "${g}" in the image's /etc/group`);
      gid = Number(grp![2]);
    }
    return { uid, gid, additionalGids: [gid] };
  }
  const name = entry?.[0];
  const extra = name ? groups.filter((r) => (r[3] ?? '').split(',').includes(name)).map((r) => Number(r[2])) : [];
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) fail("the image's /etc/passwd entry has no numeric uid or gid");
  return { uid, gid, additionalGids: [...new Set([gid, ...extra])].filter((n) => Number.isInteger(n)) };
}
