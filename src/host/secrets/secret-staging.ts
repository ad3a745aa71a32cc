// Staged secret files: `<socket dir>/secrets/<realm>/<containerd id>/<name>` on a tmpfs, owned by the container's
// uid and gid, mode 0400, bind-mounted read-only at the secret's mountPath. (containerd ids are unique per
// namespace, that is per realm, so the realm keeps two realms' containers of the same names apart.)
// Each container's directory carries an owner record (run path, cell path, container id; no value), so a
// stop, delete or purge removes exactly what this host staged for that container, and nothing of another host's.

import fs from 'node:fs';
import path from 'node:path';
import { ensureTmpfs } from './staging-tmpfs';

const OWNER_FILE = '.owner.json';

interface Owner {
  runPath: string;
  cell: string[];
  container: string;
}

export interface StagedFile {
  name: string;
  value: Buffer;
}

export class SecretStaging {
  constructor(
    /** `<socket dir>/secrets` */
    readonly root: string,
    private readonly runPath: string,
  ) {}

  /** Writes the files (0400, owned by uid:gid) for one container start; returns each file's host path by name. */
  stage(
    cellPath: readonly string[],
    container: string,
    containerdId: string,
    files: StagedFile[],
    uid: number,
    gid: number,
  ): Map<string, string> {
    ensureTmpfs(this.root);
    const dir = path.join(this.root, cellPath[0], containerdId);
    fs.rmSync(dir, { recursive: true, force: true }); // what an earlier start left (a crash, a reboot of the daemon)
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const owner: Owner = { runPath: this.runPath, cell: [...cellPath], container };
    fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(owner), { mode: 0o600 });
    const out = new Map<string, string>();
    for (const f of files) {
      const file = path.join(dir, f.name);
      const fd = fs.openSync(file, 'wx', 0o400);
      try {
        fs.fchownSync(fd, uid, gid);
        fs.fchmodSync(fd, 0o400);
        fs.writeSync(fd, f.value);
      } finally {
        fs.closeSync(fd);
      }
      out.set(f.name, file);
    }
    return out;
  }

  /**
   * Removes what this host staged under `scope` (a realm, space, stack or cell path), only for `container` when
   * given. Returns how many containers' files went.
   */
  remove(scope: readonly string[], container?: string): number {
    const realmDir = path.join(this.root, scope[0]);
    let entries: string[];
    try {
      entries = fs.readdirSync(realmDir);
    } catch {
      return 0; // nothing staged in this realm (the usual case: no container of it uses mounted secrets)
    }
    let removed = 0;
    for (const id of entries) {
      const dir = path.join(realmDir, id);
      let owner: Owner;
      try {
        owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as Owner;
      } catch {
        continue;
      }
      if (owner.runPath !== this.runPath || !scope.every((name, i) => owner.cell[i] === name)) continue;
      if (container !== undefined && owner.container !== container) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      removed += 1;
    }
    // an emptied realm directory goes too (rmdir: never one still holding another host's files)
    if (scope.length === 1) {
      try {
        fs.rmdirSync(realmDir);
      } catch {
        // not empty: another host's (or a running container's) files
      }
    }
    return removed;
  }
}
