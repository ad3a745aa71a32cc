// The start-up pass's decisions on a real host (store-yaml on a temp dir) with a stand-in runtime whose tasks
// the test controls: what is marked, what is started, what is left alone, and nothing at all when the runtime
// does not answer. The e2e-reboot suite proves the same on containerd, CNI and cgroups.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { KukeonError } from '../sdk';
import type { Plugin } from '../sdk';
import type { Host } from '../src/host';
import { BootMarker } from '../src/host/supervision/boot-marker';
import { describeRecovery, recoverAtStart } from '../src/host/supervision/boot-recovery';
import { cellManifest, fakePlugin, testHost } from './helpers/hosts';
import { tmpDir } from './helpers/tmp';

interface FakeRuntime {
  /** containerd ids with a running task. */
  running: Set<string>;
  /** containerd ids of stopped tasks that still exist, with their exit codes. */
  exited: Map<string, number>;
  down: boolean;
  starts: string[];
  realmCreates: number;
}

function fakeRuntime(rt: FakeRuntime): Plugin<unknown> {
  return fakePlugin('fake-runtime', 'runtime', (host) => {
    host.hooks.create.for('Realm').tapPromise('fake', async () => void (rt.realmCreates += 1));
    host.hooks.cell.startRoot.tapPromise('fake', async (ctx) => {
      const id = `${ctx.ref.path[3]}_root`;
      rt.running.add(id);
      rt.starts.push(ctx.ref.path[3]);
      ctx.status.root = { containerdId: id, pid: 100 + rt.starts.length };
    });
    host.hooks.cell.stopRoot.tapPromise('fake', async (ctx) => {
      rt.running.delete(`${ctx.ref.path[3]}_root`);
      ctx.status.root = { ...ctx.status.root, pid: undefined };
    });
    host.hooks.start
      .for('Container')
      .tapPromise(
        'fake',
        async (ctx) => void Object.assign(ctx.status, { state: 'Ready', pid: 7, containerdId: ctx.ref.path.slice(3).join('_') }),
      );
    host.hooks.stop
      .for('Container')
      .tapPromise('fake', async (ctx) => void Object.assign(ctx.status, { state: 'Stopped', pid: undefined }));
    host.services.provide('runtime.tasks', {
      get: async () => undefined,
      inventory: async () => [],
      async list() {
        if (rt.down) throw new KukeonError('KUKEON_E_UNAVAILABLE', 'containerd at /nowhere does not answer');
        return [
          ...[...rt.running].map((containerdId) => ({ containerdId, running: true })),
          ...[...rt.exited].map(([containerdId, exitCode]) => ({ containerdId, running: false, exitCode })),
        ];
      },
    });
  });
}

const PARENTS = `apiVersion: v1beta1
kind: Realm
metadata: { name: main }
---
kind: Space
metadata: { name: blog }
spec: { realmId: main }
---
kind: Stack
metadata: { name: wp }
spec: { realmId: main, spaceId: blog }
---
`;
const withPolicy = (name: string, policy: string) => cellManifest(name, `    - { id: w, image: busybox, restartPolicy: ${policy} }\n`);
const ref = (name: string) => ({ kind: 'Cell' as const, path: ['main', 'blog', 'wp', name] });

async function setUp(cells: Record<string, string>): Promise<{ host: Host; rt: FakeRuntime; run: string }> {
  const rt: FakeRuntime = { running: new Set(), exited: new Map(), down: false, starts: [], realmCreates: 0 };
  const run = tmpDir();
  const host = await testHost([fakeRuntime(rt)], run);
  const report = await host.controller.apply(
    PARENTS +
      Object.entries(cells)
        .map(([n, p]) => withPolicy(n, p))
        .join('---\n'),
  );
  assert.equal(
    report.items.filter((i) => i.action === 'failed'),
    [],
  );
  return { host, rt, run };
}

const deps = (host: Host) => ({
  store: host.services.get('store')!,
  lifecycle: host.lifecycle,
  tasks: host.services.get('runtime.tasks'),
  plugins: host.plugins,
});
const read = (run: string, ...rel: string[]) => YAML.parse(fs.readFileSync(path.join(run, 'main', 'blog', 'wp', ...rel), 'utf8')).status;

test('after a reboot: task-less cells are Stopped (Reboot), then always, unless-stopped and on-failure start; never, a user stop and an exhausted on-failure do not', async () => {
  const { host, rt, run } = await setUp({
    alw: 'always',
    uls: 'unless-stopped',
    onf: 'on-failure',
    nev: 'never',
    held: 'unless-stopped',
    spent: 'on-failure',
    done: 'on-failure',
  });
  await host.controller.stop(ref('held'));
  const store = host.services.get('store')!;
  await store.update({ kind: 'Container', path: [...ref('spent').path, 'w'] }, (cur) =>
    cur ? { ...cur, status: { ...cur.status, restartCount: 5 } } : undefined,
  );
  // done's workload had completed before the reboot (its root still ran).
  await store.update({ kind: 'Container', path: [...ref('done').path, 'w'] }, (cur) =>
    cur ? { ...cur, status: { ...cur.status, state: 'Exited', exitCode: 0, reason: 'Completed' } } : undefined,
  );
  rt.running.clear(); // the reboot
  rt.starts.length = 0;
  rt.realmCreates = 0;

  const report = await recoverAtStart(deps(host), true);
  assert.is(report.skipped, undefined);
  assert.is(report.converged, 3, 'realm, space and stack ran their create phase again');
  assert.is(rt.realmCreates, 1);
  assert.equal(
    report.stopped.sort(),
    ['alw', 'done', 'nev', 'onf', 'spent', 'uls'].map((n) => `main/blog/wp/${n}`),
  );
  assert.equal(
    report.started,
    ['alw', 'onf', 'uls'].map((n) => `main/blog/wp/${n}`),
  );
  assert.equal(report.failures, []);
  for (const n of ['alw', 'uls', 'onf']) {
    assert.is(read(run, n, 'cell.yaml').state, 'Ready', n);
    assert.is(read(run, n, 'cell.yaml').reason, undefined, n);
    assert.is(read(run, n, 'containers', 'w.yaml').reason, undefined, n);
  }
  for (const n of ['nev', 'spent']) {
    assert.is(read(run, n, 'cell.yaml').state, 'Stopped', n);
    assert.is(read(run, n, 'cell.yaml').reason, 'Reboot', n);
    assert.is(read(run, n, 'containers', 'w.yaml').state, 'Stopped', n);
    assert.is(read(run, n, 'containers', 'w.yaml').reason, 'Reboot', n);
  }
  assert.is(read(run, 'held', 'cell.yaml').state, 'Stopped');
  assert.is(read(run, 'held', 'cell.yaml').reason, undefined, "the user's stop is kept as it was");
  assert.is(read(run, 'done', 'cell.yaml').reason, 'Reboot');
  assert.is(read(run, 'done', 'containers', 'w.yaml').reason, 'Completed', 'a container that had ended keeps its own reason');
  assert.is(read(run, 'done', 'containers', 'w.yaml').exitCode, 0);
  assert.match(describeRecovery(report), /after a reboot: converged 3 .* 6 cell\(s\) without tasks marked Stopped \(Reboot\).* 3 started/);
  await host.close();
});

test('after a daemon restart: a running cell is left alone; kuke stop under always comes back, under unless-stopped stays', async () => {
  const { host, rt, run } = await setUp({ steady: 'always', back: 'always', held: 'unless-stopped' });
  await host.controller.stop(ref('back'));
  await host.controller.stop(ref('held'));
  assert.is(read(run, 'back', 'containers', 'w.yaml').stoppedByUser, true);
  rt.starts.length = 0;
  rt.realmCreates = 0;

  const report = await recoverAtStart(deps(host), false);
  assert.is(report.converged, 0);
  assert.is(rt.realmCreates, 0, 'no convergence without a reboot');
  assert.equal(report.stopped, []);
  assert.equal(report.started, ['main/blog/wp/back']);
  assert.equal(rt.starts, ['back'], 'steady was running: not started again');
  assert.is(read(run, 'back', 'cell.yaml').state, 'Ready');
  assert.is(read(run, 'back', 'containers', 'w.yaml').stoppedByUser, undefined, 'running again: no longer stopped by the user');
  assert.is(read(run, 'held', 'cell.yaml').state, 'Stopped');
  assert.is(read(run, 'held', 'containers', 'w.yaml').stoppedByUser, true);
  await host.close();
});

test('a plain restart finds a Ready cell without tasks: marked Stopped without the Reboot reason, started by always', async () => {
  const { host, rt, run } = await setUp({ gone: 'never', gonealw: 'always' });
  rt.running.clear();
  const report = await recoverAtStart(deps(host), false);
  assert.equal(report.stopped.sort(), ['main/blog/wp/gone', 'main/blog/wp/gonealw']);
  assert.equal(report.started, ['main/blog/wp/gonealw']);
  assert.is(read(run, 'gone', 'cell.yaml').state, 'Stopped');
  assert.is(read(run, 'gone', 'cell.yaml').reason, undefined);
  assert.match(read(run, 'gone', 'cell.yaml').message, 'gone when kukeond started');
  await host.close();
});

test("a plain restart finds its cells' tasks stopped, not gone: their exit codes decide (on-failure: 0 stays stopped, 3 starts)", async () => {
  const { host, rt, run } = await setUp({ ok0: 'on-failure', bad3: 'on-failure' });
  rt.running.clear();
  rt.exited.set('ok0_w', 0);
  rt.exited.set('bad3_w', 3);
  rt.starts.length = 0;
  const report = await recoverAtStart(deps(host), false);
  assert.equal(report.stopped.sort(), ['main/blog/wp/bad3', 'main/blog/wp/ok0']);
  assert.equal(report.started, ['main/blog/wp/bad3'], 'exit 0 is not a failure: only exit 3 starts under on-failure');
  assert.is(read(run, 'ok0', 'cell.yaml').state, 'Stopped');
  assert.is(read(run, 'ok0', 'containers', 'w.yaml').exitCode, 0, 'the exit code the runtime kept, not 255');
  assert.is(read(run, 'bad3', 'cell.yaml').state, 'Ready');
  await host.close();
});

test('containerd does not answer: nothing is converged, marked or started, and the pass says it was skipped', async () => {
  const { host, rt, run } = await setUp({ alw: 'always', nev: 'never' });
  rt.running.clear();
  rt.down = true;
  rt.realmCreates = 0;
  const before = fs.readFileSync(path.join(run, 'main', 'blog', 'wp', 'nev', 'cell.yaml'), 'utf8');
  const report = await recoverAtStart(deps(host), true);
  assert.match(report.skipped ?? '', 'does not answer');
  assert.equal([report.stopped, report.started, report.converged, rt.realmCreates], [[], [], 0, 0]);
  assert.is(fs.readFileSync(path.join(run, 'main', 'blog', 'wp', 'nev', 'cell.yaml'), 'utf8'), before, 'the record is untouched');
  assert.match(describeRecovery(report), /skipped: .*does not answer; cells were left as they are/);
  await host.close();
});

test('no runtime plugin: skipped, saying why', async () => {
  const host = await testHost([]);
  const report = await recoverAtStart(deps(host), true);
  assert.is(report.skipped, 'no runtime plugin is configured');
  await host.close();
});

test('the boot marker: no alive file or another boot id is a reboot; recording this boot makes it a plain restart', () => {
  const dir = tmpDir();
  const bootId = path.join(dir, 'boot_id');
  fs.writeFileSync(bootId, 'aaaa-1\n');
  const sockets = path.join(dir, 'run-kukeon');
  fs.mkdirSync(sockets);
  const m = new BootMarker(sockets, bootId);
  assert.is(m.bootId, 'aaaa-1');
  assert.ok(m.rebooted(), 'no alive file');
  m.record();
  assert.is(fs.readFileSync(path.join(sockets, 'alive'), 'utf8'), 'aaaa-1\n');
  assert.not.ok(new BootMarker(sockets, bootId).rebooted(), 'same boot');
  fs.writeFileSync(bootId, 'bbbb-2\n');
  assert.ok(new BootMarker(sockets, bootId).rebooted(), 'another boot id');
  assert.throws(() => new BootMarker(sockets, path.join(dir, 'missing')), /cannot read the boot id/);
});

test.run();
