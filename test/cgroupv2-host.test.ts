// The cgroupv2 plugin's cgroup operations on this host's real cgroup2 mount, under a test-only root: nested
// cgroups made and removed, a process this test spawned moved in through cgroup.procs, cgroup.events,
// cgroup.freeze, cgroup.kill, stats, purge, and the kernel's refusals as the plugin reports them. Root only (the
// e2e guard skips it otherwise); nothing of the machine's own is moved, and nothing above the test root is written.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import * as assert from 'uvu/assert';
import { CgroupFs } from '../plugins/cgroupv2/cgroup-fs';
import { nodeCgroupSys } from '../plugins/cgroupv2/cgroup-sys';
import { detectLayout } from '../plugins/cgroupv2/layout';
import { limitEntries } from '../plugins/cgroupv2/limits';
import { levelRefusal } from '../plugins/cgroupv2/refusals';
import { readStats } from '../plugins/cgroupv2/stats';
import { CgroupTree } from '../plugins/cgroupv2/tree';
import { writeLimits } from '../plugins/cgroupv2/write-limits';
import type { KukeonError } from '../sdk';
import { e2eSuite } from './e2e/requirements';
import { waitFor } from './helpers/wait-for';

const caught = (fn: () => void): KukeonError => {
  try {
    fn();
  } catch (err) {
    return err as KukeonError;
  }
  throw new Error('expected a refusal');
};

e2eSuite('cgroupv2 on the host cgroup2 mount', (test) => {
  const layout = detectLayout(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const root = `kukeon-cgtest-${randomBytes(3).toString('hex')}`;
  const tree = new CgroupTree(layout, root, nodeCgroupSys);
  const v2 = tree.v2;
  const children: ChildProcess[] = [];

  /** A `sleep` of our own, with a promise of how it ended. */
  const spawnSleeper = () => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(child);
    const ended = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    return { pid: child.pid!, ended };
  };
  const cgroupOf = (pid: number) =>
    fs
      .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));

  test.after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // rmdir only, deepest first: whatever a failed test left under the test root
    for (const rel of v2.postOrder(root)) {
      try {
        v2.rmdir(rel);
      } catch {
        // reported below
      }
    }
    assert.not.ok(v2.exists(root), `${v2.path(root)} is left behind`);
  });

  test('nested cgroups are made (mkdir -p, idempotent) and removed leaves first, the root only when empty', () => {
    assert.ok(layout.unified, 'a cgroup2 mount');
    assert.equal(v2.ensure(`${root}/a/b/c`), [root, `${root}/a`, `${root}/a/b`, `${root}/a/b/c`]);
    assert.equal(v2.ensure(`${root}/a/b/c`), [], 'nothing new the second time');
    v2.ensure(`${root}/z`);
    for (const f of ['cgroup.procs', 'cgroup.events', 'cgroup.subtree_control', 'cgroup.controllers'])
      assert.ok(v2.hasFile(`${root}/a/b/c`, f), f);
    assert.throws(
      () => v2.rmdir(`${root}/a`),
      (e: NodeJS.ErrnoException) => e.code === 'EBUSY',
      'the kernel refuses a parent first',
    );
    tree.remove(`${root}/a`);
    assert.not.ok(v2.exists(`${root}/a`));
    tree.removeRootIfEmpty();
    assert.ok(v2.exists(root), 'the root stays while z is under it');
    tree.remove(`${root}/z`);
    tree.removeRootIfEmpty();
    assert.not.ok(v2.exists(root));
    tree.remove(`${root}/a`); // already gone: fine
  });

  test('a process we spawned moves in through cgroup.procs; events show populated and frozen; cgroup.kill ends it', async () => {
    const { pid, ended } = spawnSleeper();
    v2.ensure(`${root}/w/leaf`);
    v2.write(`${root}/w/leaf`, 'cgroup.procs', String(pid));
    assert.is(cgroupOf(pid), `0::/${root}/w/leaf`);
    assert.equal(v2.procs(`${root}/w/leaf`), [pid]);
    assert.is(v2.populated(`${root}/w/leaf`), true);
    assert.is(v2.populated(`${root}/w`), true, 'populated counts the subtree');
    const stats = readStats(tree, `${root}/w/leaf`);
    assert.type(stats?.cpuUsageUsec, 'number', 'cpu.stat usage_usec from cgroup2');
    v2.write(`${root}/w`, 'cgroup.freeze', '1');
    await waitFor('frozen 1', () => v2.frozen(`${root}/w/leaf`) === true, 5000, 10);
    v2.write(`${root}/w`, 'cgroup.freeze', '0');
    await waitFor('frozen 0', () => v2.frozen(`${root}/w/leaf`) === false, 5000, 10);
    assert.equal(await tree.kill(`${root}/w`), [], 'nothing left after the kill');
    assert.is(await ended, 'SIGKILL');
    assert.is(v2.populated(`${root}/w`), false);
    tree.remove(root);
    assert.not.ok(v2.exists(root));
  });

  test('purge kills what is inside, removes the tree, and succeeds again when it is gone', async () => {
    const a = spawnSleeper();
    const b = spawnSleeper();
    v2.ensure(`${root}/p/q`);
    v2.write(`${root}/p`, 'cgroup.procs', String(a.pid)); // p is not a leaf once q exists, but holds no controllers: allowed
    v2.write(`${root}/p/q`, 'cgroup.procs', String(b.pid));
    assert.throws(() => tree.remove(`${root}/p`), /processes are still inside \(kuke purge kills them\)/);
    await tree.purge(`${root}/p`);
    assert.equal(await Promise.all([a.ended, b.ended]), ['SIGKILL', 'SIGKILL']);
    assert.not.ok(v2.exists(`${root}/p`));
    await tree.purge(`${root}/p`);
    tree.removeRootIfEmpty();
  });

  test('the kernel refusals on this mount: a level limit is refused up front naming the layout; EACCES and ENOENT become coded errors', () => {
    const offered = v2.controllers('');
    const missing = (['cpu', 'memory', 'pids', 'io'] as const).find((c) => !offered.includes(c));
    if (!missing) return; // a pure v2 host that offers them all: nothing to refuse here
    const entries = limitEntries(
      missing === 'cpu'
        ? { cpu: { max: '50000 100000' } }
        : missing === 'memory'
          ? { memory: { max: 1 << 26 } }
          : missing === 'pids'
            ? { pids: { max: 10 } }
            : { io: { weight: 10 } },
    );
    const up = levelRefusal(layout, v2, entries)!;
    assert.is(up.code, 'KUKEON_E_CGROUP_CONTROLLER');
    assert.match(up.message, new RegExp(`needs the ${missing} controller.*layout ${layout.kind} \\(cgroup2 at ${layout.unified}`));
    // The same write without the up-front check, against the kernel, on a CgroupFs whose top is the test root
    // (so nothing above it is ever written): the kernel's ENOENT and EACCES, as the plugin words them.
    v2.ensure(`${root}/lim`);
    const top = new CgroupFs(v2.path(root), nodeCgroupSys);
    const enoent = caught(() => writeLimits(top, 'lim', entries));
    assert.is(enoent.code, 'KUKEON_E_CGROUP_CONTROLLER');
    assert.match(enoent.message, new RegExp(`cannot enable ${missing} in .*${root}/cgroup.subtree_control.*\\(ENOENT\\)`));
    const eacces = caught(() => writeLimits(new CgroupFs(v2.path(`${root}/lim`), nodeCgroupSys), '', entries));
    assert.is(eacces.code, 'KUKEON_E_CGROUP_CONTROLLER');
    assert.match(eacces.message, /not available there \(EACCES\)/);
    tree.remove(root);
  });
});
