// One cgroup hierarchy under its mount point: paths are relative to the mount (`kukeon/main/blog`), errors keep
// their errno (callers know what a refusal means in their context and say so).

import path from 'node:path';
import { nodeCgroupSys } from './cgroup-sys';
import type { CgroupSys } from './cgroup-sys';

const errno = (err: unknown) => (err as NodeJS.ErrnoException)?.code;
const words = (text: string | undefined) => (text ?? '').split(/\s+/).filter(Boolean);

export class CgroupFs {
  constructor(
    readonly mount: string,
    readonly sys: CgroupSys = nodeCgroupSys,
  ) {}

  /** The absolute path of `rel`; a second guard (names are validated) against leaving the mount. */
  path(rel: string, file?: string): string {
    const p = path.join(this.mount, rel, file ?? '');
    const base = this.mount.replace(/\/+$/, '');
    if (p !== base && p !== `${base}/` && !p.startsWith(`${base}/`)) throw new Error(`cgroup path ${rel} leaves ${this.mount}`);
    return p;
  }

  exists(rel: string): boolean {
    return this.sys.exists(this.path(rel));
  }

  /** The file's content, or undefined when the cgroup or the file does not exist. */
  read(rel: string, file: string): string | undefined {
    try {
      return this.sys.readFile(this.path(rel, file));
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENODEV') return undefined;
      throw err;
    }
  }

  write(rel: string, file: string, value: string): void {
    this.sys.writeFile(this.path(rel, file), value);
  }

  hasFile(rel: string, file: string): boolean {
    return this.sys.exists(this.path(rel, file));
  }

  /** Creates `rel` and its missing parents (mkdir -p); returns the cgroups it created, top first. */
  ensure(rel: string): string[] {
    const parts = rel.split('/').filter(Boolean);
    const created: string[] = [];
    for (let attempt = 0; ; attempt++) {
      try {
        for (let i = 1; i <= parts.length; i++) {
          const sub = parts.slice(0, i).join('/');
          try {
            this.sys.mkdir(this.path(sub));
            created.push(sub);
          } catch (err) {
            if (errno(err) !== 'EEXIST') throw err;
          }
        }
        return created;
      } catch (err) {
        // A concurrent delete removed an empty parent (the root) between two mkdirs: walk down again.
        if (errno(err) !== 'ENOENT' || attempt >= 2) throw err;
      }
    }
  }

  controllers(rel: string): string[] {
    return words(this.read(rel, 'cgroup.controllers'));
  }

  subtreeControl(rel: string): string[] {
    return words(this.read(rel, 'cgroup.subtree_control'));
  }

  /** `rel` and every cgroup below it, children before parents (the order rmdir needs). */
  postOrder(rel: string): string[] {
    let children: string[];
    try {
      children = this.sys.subdirs(this.path(rel));
    } catch (err) {
      if (errno(err) === 'ENOENT') return [];
      throw err;
    }
    return [...children.sort().flatMap((c) => this.postOrder(`${rel}/${c}`)), rel];
  }

  /** rmdir of one cgroup; false when it was already gone. */
  rmdir(rel: string): boolean {
    try {
      this.sys.rmdir(this.path(rel));
      return true;
    } catch (err) {
      if (errno(err) === 'ENOENT') return false;
      throw err;
    }
  }

  procs(rel: string): number[] {
    return words(this.read(rel, 'cgroup.procs'))
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
  }

  /** `populated` from cgroup.events (v2); undefined when the cgroup or the file is absent. */
  populated(rel: string): boolean | undefined {
    const m = /^populated (\d)/m.exec(this.read(rel, 'cgroup.events') ?? '');
    return m ? m[1] === '1' : undefined;
  }

  frozen(rel: string): boolean | undefined {
    const m = /^frozen (\d)/m.exec(this.read(rel, 'cgroup.events') ?? '');
    return m ? m[1] === '1' : undefined;
  }
}
