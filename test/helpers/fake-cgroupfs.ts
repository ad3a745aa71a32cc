// A temporary directory that behaves like cgroupfs for the cgroupv2 plugin's unit tests, as the kernel does on
// the cases the plugin relies on (measured on the real unified mount, see the test-environment notes):
// - mkdir makes a cgroup with its interface files; a controller's files appear only when the parent enables it;
// - writing an interface file that does not exist fails with EACCES (it cannot be created);
// - enabling a controller the cgroup does not have (`+cpu` in cgroup.subtree_control) fails with ENOENT;
// - rmdir fails with EBUSY while a cgroup has children or processes; cgroup.kill empties the subtree;
// - cgroup.events reports populated (any process below) and frozen.
// Optional v1 hierarchies are plain directories, as runc's v1 driver leaves them.

import fs from 'node:fs';
import path from 'node:path';
import type { CgroupSys } from '../../plugins/cgroupv2/cgroup-sys';
import { tmpDir } from './tmp';

export interface FakeCgroupfsOptions {
  /** What the fake cgroup2 root offers (its cgroup.controllers). */
  controllers?: string[];
  /** Controllers already enabled for the root's children. */
  subtreeControl?: string[];
  /** v1 hierarchies (each a list of controllers): makes the layout hybrid. */
  v1?: string[][];
  /** Whether cgroup.kill exists (kernel 5.14+). */
  kill?: boolean;
}

const FILES: Record<string, Record<string, string>> = {
  cpu: { 'cpu.max': 'max 100000\n', 'cpu.weight': '100\n' },
  memory: { 'memory.max': 'max\n', 'memory.high': 'max\n', 'memory.current': '0\n' },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  io: { 'io.weight': 'default 100\n' },
  hugetlb: { 'hugetlb.2MB.max': 'max\n' },
};

const VALID: Record<string, RegExp> = {
  'cpu.max': /^(max|\d+)( \d+)?$/,
  'cpu.weight': /^\d+$/,
  'memory.max': /^(max|\d+)$/,
  'memory.high': /^(max|\d+)$/,
  'pids.max': /^(max|\d+)$/,
  'io.weight': /^(default )?\d+$/,
};

const fail = (code: string, p: string): never => {
  const e = new Error(`${code}: fake cgroupfs refused ${p}`) as NodeJS.ErrnoException;
  e.code = code;
  throw e;
};
const words = (s: string) => s.split(/\s+/).filter(Boolean);

export class FakeCgroupfs {
  readonly dir = tmpDir('kukeon-fake-cgroupfs-');
  readonly unified = path.join(this.dir, 'unified');
  readonly v1Mounts: { mountPoint: string; controllers: string[] }[];
  /** Every signal sent through sys.kill, and every pid cgroup.kill ended. */
  readonly killed: number[] = [];
  /** Every write, in order (`<path relative to dir> <- value`). */
  readonly writes: string[] = [];
  private readonly hasKill: boolean;

  constructor(opts: FakeCgroupfsOptions = {}) {
    this.hasKill = opts.kill ?? true;
    fs.mkdirSync(this.unified);
    this.put(this.unified, 'cgroup.controllers', `${(opts.controllers ?? ['cpu', 'memory', 'pids', 'io']).join(' ')}\n`);
    this.put(this.unified, 'cgroup.subtree_control', `${(opts.subtreeControl ?? []).join(' ')}\n`);
    this.put(this.unified, 'cgroup.procs', '');
    this.v1Mounts = (opts.v1 ?? []).map((controllers) => {
      const mountPoint = path.join(this.dir, controllers.join(','));
      fs.mkdirSync(mountPoint);
      fs.writeFileSync(path.join(mountPoint, 'cgroup.procs'), '');
      return { mountPoint, controllers };
    });
  }

  /** A /proc/self/mountinfo for this tree. */
  get mountinfo(): string {
    const lines = [`31 23 0:28 / ${path.dirname(this.unified)} rw,relatime - tmpfs tmpfs rw,mode=755`];
    for (const [i, m] of this.v1Mounts.entries()) {
      lines.push(`${32 + i} 31 0:${29 + i} / ${m.mountPoint} rw,relatime - cgroup cgroup rw,${m.controllers.join(',')}`);
    }
    lines.push(`60 31 0:60 / ${this.unified} rw,relatime - cgroup2 cgroup2 rw`);
    return `${lines.join('\n')}\n`;
  }

  private put(dir: string, file: string, value: string): void {
    fs.writeFileSync(path.join(dir, file), value);
  }

  private get(dir: string, file: string): string {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  }

  private inUnified(p: string): boolean {
    return p === this.unified || p.startsWith(`${this.unified}/`);
  }

  private isCgroup(dir: string): boolean {
    return fs.existsSync(path.join(dir, 'cgroup.controllers'));
  }

  private children(dir: string): string[] {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dir, e.name));
  }

  private subtree(dir: string): string[] {
    return [dir, ...this.children(dir).flatMap((c) => this.subtree(c))];
  }

  private procsOf(dir: string): number[] {
    const f = path.join(dir, 'cgroup.procs');
    return fs.existsSync(f) ? words(fs.readFileSync(f, 'utf8')).map(Number) : [];
  }

  /** Gives a cgroup its controller files, or takes them away, as the parent's subtree_control changes. */
  private setControllers(dir: string, controllers: string[]): void {
    const before = words(this.get(dir, 'cgroup.controllers'));
    this.put(dir, 'cgroup.controllers', `${controllers.join(' ')}\n`);
    for (const c of before.filter((c) => !controllers.includes(c)))
      for (const f of Object.keys(FILES[c] ?? {})) fs.rmSync(path.join(dir, f), { force: true });
    for (const c of controllers.filter((c) => !before.includes(c)))
      for (const [f, v] of Object.entries(FILES[c] ?? {})) this.put(dir, f, v);
  }

  /** Removes `pid` from every cgroup.procs (the process died or moved). */
  private forget(pid: number): void {
    for (const root of [this.unified, ...this.v1Mounts.map((m) => m.mountPoint)]) {
      for (const d of this.subtree(root)) {
        const procs = this.procsOf(d);
        if (procs.includes(pid))
          this.put(
            d,
            'cgroup.procs',
            procs
              .filter((p) => p !== pid)
              .map((p) => `${p}\n`)
              .join(''),
          );
      }
    }
  }

  /** The (pretend) process `pid` exits: it leaves every cgroup. */
  exit(pid: number): void {
    this.forget(pid);
  }

  /** Puts a (pretend) process into `dir` directly, as runc does in a v1 hierarchy. */
  addProcess(dir: string, pid: number): void {
    fs.mkdirSync(dir, { recursive: true });
    const procs = this.procsOf(dir);
    this.put(dir, 'cgroup.procs', [...procs, pid].map((p) => `${p}\n`).join(''));
  }

  readonly sys: CgroupSys = {
    mkdir: (dir) => {
      if (fs.existsSync(dir)) fail('EEXIST', dir);
      const parent = path.dirname(dir);
      if (!fs.existsSync(parent)) fail('ENOENT', dir);
      fs.mkdirSync(dir);
      if (!this.inUnified(dir)) return;
      this.put(dir, 'cgroup.controllers', '');
      this.put(dir, 'cgroup.subtree_control', '');
      this.put(dir, 'cgroup.procs', '');
      this.put(dir, 'cgroup.freeze', '0\n');
      this.put(dir, 'cpu.stat', 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n');
      if (this.hasKill) this.put(dir, 'cgroup.kill', '');
      this.setControllers(dir, words(this.get(parent, 'cgroup.subtree_control')));
    },
    rmdir: (dir) => {
      if (!fs.existsSync(dir)) fail('ENOENT', dir);
      if (this.children(dir).length || this.procsOf(dir).length) fail('EBUSY', dir);
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
      fs.rmdirSync(dir);
    },
    readFile: (file) => {
      const dir = path.dirname(file);
      if (path.basename(file) === 'cgroup.events' && this.isCgroup(dir)) {
        const populated = this.subtree(dir).some((d) => this.procsOf(d).length > 0);
        return `populated ${populated ? 1 : 0}\nfrozen ${this.get(dir, 'cgroup.freeze').trim() === '1' ? 1 : 0}\n`;
      }
      return fs.readFileSync(file, 'utf8');
    },
    writeFile: (file, value) => {
      if (!fs.existsSync(file)) fail('EACCES', file);
      const dir = path.dirname(file);
      const name = path.basename(file);
      const v = value.trim();
      this.writes.push(`${path.relative(this.dir, file)} <- ${v}`);
      if (name === 'cgroup.subtree_control') {
        const own = words(this.get(dir, 'cgroup.controllers'));
        let enabled = words(this.get(dir, 'cgroup.subtree_control'));
        if (dir !== this.unified && this.procsOf(dir).length) fail('EBUSY', file);
        for (const tok of words(v)) {
          const c = tok.slice(1);
          if (tok[0] === '+') {
            if (!own.includes(c)) fail('ENOENT', file);
            if (!enabled.includes(c)) enabled.push(c);
          } else if (tok[0] === '-') {
            if (this.children(dir).some((ch) => words(this.get(ch, 'cgroup.subtree_control')).includes(c))) fail('EBUSY', file);
            enabled = enabled.filter((e) => e !== c);
          } else fail('EINVAL', file);
        }
        this.put(dir, name, `${enabled.join(' ')}\n`);
        for (const ch of this.children(dir)) this.setControllers(ch, enabled);
        return;
      }
      if (name === 'cgroup.procs') {
        const pid = Number(v);
        if (!Number.isInteger(pid) || pid <= 0) fail('EINVAL', file);
        if (this.inUnified(dir) && words(this.get(dir, 'cgroup.subtree_control')).length) fail('EBUSY', file);
        this.forget(pid);
        this.addProcess(dir, pid);
        return;
      }
      if (name === 'cgroup.kill') {
        // The processes die: they leave every hierarchy, v1 included.
        for (const pid of this.subtree(dir).flatMap((d) => this.procsOf(d))) {
          this.killed.push(pid);
          this.forget(pid);
        }
        return;
      }
      if (VALID[name] && !VALID[name].test(v)) fail('EINVAL', file);
      this.put(dir, name, `${v}\n`);
    },
    subdirs: (dir) => this.children(dir).map((d) => path.basename(d)),
    exists: (p) => fs.existsSync(p),
    writable: () => true,
    kill: (pid) => {
      this.killed.push(pid);
      this.forget(pid);
    },
  };

  /** Content of a file relative to the fake dir, trimmed; undefined when absent. */
  read(rel: string): string | undefined {
    const p = path.join(this.dir, rel);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8').trim() : undefined;
  }

  exists(rel: string): boolean {
    return fs.existsSync(path.join(this.dir, rel));
  }

  /** Every directory under `rel` (relative to the fake dir), sorted. */
  dirs(rel: string): string[] {
    const root = path.join(this.dir, rel);
    if (!fs.existsSync(root)) return [];
    return this.subtree(root)
      .map((d) => path.relative(this.dir, d))
      .sort();
  }
}
