// apply of a cell whose record says it runs, against a recording runtime whose live tasks the test sets: what is
// missing starts (through the cell's own steps), what runs is left, a pending restart and an ended job are left.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ContainerStatus } from '../sdk';
import { MANIFEST, fakePlugin, testHost } from './helpers/hosts';
import { recordingRuntime } from './helpers/recording-runtime';
import type { Recorder } from './helpers/recording-runtime';
import { tmpDir } from './helpers/tmp';

/** MANIFEST's realm, space, stack and cell web (workloads nginx and sidecar, a synthesized root). */
const WEB = MANIFEST.split('---').slice(0, 4).join('---');
const START = ['prepare', 'startRoot', 'attachNetwork', 'start:nginx', 'start:sidecar', 'startWorkloads', 'verify'];

/** A host on the recording runtime plus `runtime.tasks`: the containers (`root` for the root) in `running` run. */
async function setUp() {
  const rec: Recorder = { events: [], seen: [] };
  const running = new Set<string>();
  const base = recordingRuntime(rec);
  const runtime = fakePlugin('recorder', 'runtime', async (host, config) => {
    await base.apply(host, config);
    host.services.provide('runtime.tasks', {
      get: async (_cellPath, id) => (running.has(id) ? { status: 'running' as const, pid: 1 } : undefined),
      list: async () => [],
      inventory: async () => [],
    });
  });
  const host = await testHost([runtime], tmpDir());
  await host.controller.apply(WEB);
  for (const id of ['root', 'nginx', 'sidecar']) running.add(id);
  rec.events.length = 0;
  const cellItem = async () => (await host.controller.apply(WEB)).items.find((i) => i.ref.kind === 'Cell')!;
  /** As the supervisor records an exit: through the store (its read cache sees only store writes). */
  const patch = (id: string, fields: Partial<ContainerStatus>) =>
    host.services
      .get('store')!
      .update({ kind: 'Container', path: ['main', 'blog', 'wp', 'web', id] }, (cur) =>
        cur ? ({ ...cur, status: { ...cur.status, ...fields } } as typeof cur) : undefined,
      );
  return { rec, running, cellItem, patch };
}

test('every task runs: unchanged, nothing runs', async () => {
  const { rec, cellItem } = await setUp();
  assert.is((await cellItem()).action, 'unchanged');
  assert.equal(rec.events, []);
});

test("a workload's task is gone: the cell's start runs again (no stop) and apply says what it started", async () => {
  const { rec, running, cellItem } = await setUp();
  running.delete('sidecar');
  const item = await cellItem();
  assert.equal([item.action, item.changes], ['updated', ['started container sidecar: it had no task']]);
  assert.equal(rec.events, START, 'start steps only: the root and its network are kept');
});

test('the root is gone: the cell goes down with KILL, then starts whole', async () => {
  const { rec, running, cellItem } = await setUp();
  running.delete('root');
  const item = await cellItem();
  assert.equal([item.action, item.changes], ['updated', ['started: its root had no task']]);
  assert.equal(rec.events, [
    'stop:sidecar:SIGKILL:0',
    'stop:nginx:SIGKILL:0',
    'stopWorkloads',
    'detachNetwork',
    'stopRoot',
    'release',
    ...START,
  ]);
});

test('a cell restart the supervisor has pending is left to it (its backoff and count kept)', async () => {
  const { rec, running, cellItem, patch } = await setUp();
  running.clear(); // the root died and took the workloads: the supervisor restarts the cell after the backoff
  const due = new Date(Date.now() + 60_000).toISOString();
  for (const id of ['nginx', 'sidecar']) await patch(id, { state: 'Exited', reason: 'CrashLoopBackOff', nextRestartAt: due });
  assert.is((await cellItem()).action, 'unchanged');
  assert.equal(rec.events, []);
});

test('a workload that ended (its exit recorded) is not run again', async () => {
  const { rec, running, cellItem, patch } = await setUp();
  running.delete('sidecar');
  await patch('sidecar', { state: 'Exited', reason: 'Completed', exitCode: 0 });
  assert.is((await cellItem()).action, 'unchanged');
  assert.equal(rec.events, []);
});

test.run();
