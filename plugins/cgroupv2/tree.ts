// The kukeon cgroup tree across every hierarchy of the host: the cgroup2 tree kukeon makes, plus the v1
// directories runc's v1 driver makes on a hybrid host at the same absolute path. Removal is rmdir only, leaves
// first (cgroupfs refuses to remove a cgroup with children or processes), and absence counts as done.

import { KukeonError } from '../../sdk';
import { CgroupFs } from './cgroup-fs';
import type { CgroupSys } from './cgroup-sys';
import type { CgroupLayout } from './layout';
import { v1HierarchyOf } from './layout';

const errno = (err: unknown) => (err as NodeJS.ErrnoException)?.code;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CgroupTree {
  readonly v2: CgroupFs;
  /** runc's v1 hierarchies on a hybrid host (cpu, memory, ..., name=systemd); empty on pure v2. */
  readonly v1: CgroupFs[];

  constructor(
    readonly layout: CgroupLayout,
    /** The top directory kukeon owns in every hierarchy (`kukeon`, or a test-only name). */
    readonly root: string,
    sys: CgroupSys,
  ) {
    this.v2 = new CgroupFs(layout.unified!, sys);
    this.v1 = layout.v1.map((h) => new CgroupFs(h.mountPoint, sys));
  }

  get all(): CgroupFs[] {
    return [this.v2, ...this.v1];
  }

  /** The v1 hierarchy carrying `controller` (for stats on hybrid hosts). */
  v1For(controller: string): CgroupFs | undefined {
    const h = v1HierarchyOf(this.layout, controller);
    return h ? this.v1[this.layout.v1.indexOf(h)] : undefined;
  }

  /** Removes `rel` and everything below it in every hierarchy, leaves first; what is already gone is fine. */
  remove(rel: string): void {
    const busy: string[] = [];
    for (const h of this.all) {
      for (const c of h.postOrder(rel)) {
        try {
          h.rmdir(c);
        } catch (err) {
          if (errno(err) !== 'EBUSY' && errno(err) !== 'ENOTEMPTY') throw err;
          busy.push(h.path(c));
        }
      }
    }
    if (busy.length) {
      throw new KukeonError(
        'KUKEON_E_STEP',
        `cannot remove cgroup ${busy.join(', ')}: processes are still inside (kuke purge kills them)`,
        { plugin: 'cgroupv2' },
      );
    }
  }

  /**
   * remove() once the processes inside have gone: right after the runtime killed a cell's tasks (its root's pid
   * namespace going down takes the workloads' children with it) they may still be exiting. Waits up to `waitMs`,
   * kills nothing; what is still inside then is an error as before.
   */
  async removeWhenEmpty(rel: string, waitMs = 3000): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (this.leftovers(rel).length && Date.now() < deadline) await sleep(20);
    this.remove(rel);
  }

  /** rmdir of the root in every hierarchy, only when nothing is left under it (another realm keeps it). */
  removeRootIfEmpty(): void {
    for (const h of this.all) {
      try {
        h.rmdir(this.root);
      } catch (err) {
        if (errno(err) !== 'EBUSY' && errno(err) !== 'ENOTEMPTY') throw err;
      }
    }
  }

  /** Every process in `rel` and below, in any hierarchy. */
  private leftovers(rel: string): number[] {
    const pids = new Set<number>();
    for (const h of this.all) for (const c of h.postOrder(rel)) for (const pid of h.procs(c)) pids.add(pid);
    return [...pids];
  }

  /**
   * Kills whatever is left inside `rel`: cgroup.kill where the kernel has it (5.14+), else freeze, SIGKILL each
   * process, thaw; then waits up to `timeoutMs` for the cgroups to empty. Returns the pids still there.
   */
  async kill(rel: string, timeoutMs = 5000): Promise<number[]> {
    const { v2 } = this;
    // The cgroup may go away meanwhile (runc removing a leaf): that is as good as killed.
    const write = (file: string, value: string) => {
      try {
        v2.write(rel, file, value);
      } catch (err) {
        if (errno(err) !== 'ENOENT') throw err;
      }
    };
    if (v2.exists(rel)) {
      if (v2.hasFile(rel, 'cgroup.kill')) write('cgroup.kill', '1');
      else {
        const freezable = v2.hasFile(rel, 'cgroup.freeze');
        if (freezable) write('cgroup.freeze', '1');
        this.signal(this.leftovers(rel));
        if (freezable) write('cgroup.freeze', '0');
      }
    }
    // v1 only: a process runc left in a v1 directory alone (or one the cgroup2 kill could not reach).
    this.signal(this.leftovers(rel));
    const deadline = Date.now() + timeoutMs;
    let left = this.leftovers(rel);
    while (left.length && Date.now() < deadline) {
      await sleep(20);
      left = this.leftovers(rel);
    }
    return left;
  }

  private signal(pids: number[]): void {
    for (const pid of pids) {
      try {
        this.v2.sys.kill(pid, 'SIGKILL');
      } catch (err) {
        if (errno(err) !== 'ESRCH') throw err;
      }
    }
  }

  /** Purge: kill what is inside, then remove every directory; succeeds when it is all gone already. */
  async purge(rel: string): Promise<void> {
    await this.kill(rel);
    this.remove(rel);
  }
}
