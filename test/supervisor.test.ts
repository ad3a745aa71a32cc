// The supervisor's decisions on a real host (store, locks, lifecycle) over a stand-in runtime whose tasks the
// test ends: restart by policy, the on-failure cap, user stops, exits kukeon causes itself, a dying root, and an
// exit missed while unsubscribed. (test/e2e-supervision.test.ts runs the same on containerd.)

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import type { CellStatus, ContainerStatus, ExitEvent, TaskState } from '../sdk';
import type { Host } from '../src/host';
import { Supervisor } from '../src/host/supervision/supervisor';
import { MANIFEST, cellManifest, fakePlugin, testHost } from './helpers/hosts';
import { tmpDir } from './helpers/tmp';
import { waitFor } from './helpers/wait-for';

/** A runtime whose tasks live in a map; `exit` ends one and sends its event (unless the stream is "down"). */
function fakeRuntime() {
  const tasks = new Map<string, TaskState>();
  const listeners = new Set<{ fn: (e: ExitEvent) => void; onSubscribed?: () => void }>();
  const log: string[] = [];
  let pid = 100;
  let down = false;
  /** Container starts that fail (as a runc error would) before they work again. */
  const failing = { starts: 0, roots: 0 };
  const k = (cellPath: readonly string[], id: string) => `${cellPath[3]}/${id}`;
  const plugin = fakePlugin('fake-runtime', 'runtime', (host) => {
    host.hooks.cell.startRoot.tapPromise('fake', async (ctx) => {
      log.push(`startRoot:${ctx.ref.path[3]}`);
      if (failing.roots > 0) {
        failing.roots -= 1;
        throw new Error('runc create failed: no space left on device');
      }
      const p = pid++;
      tasks.set(k(ctx.ref.path, 'root'), { status: 'running', pid: p });
      ctx.status.root = { pid: p, synthesized: true };
    });
    host.hooks.cell.stopRoot.tapPromise('fake', async (ctx) => {
      log.push(`stopRoot:${ctx.ref.path[3]}`);
      tasks.delete(k(ctx.ref.path, 'root'));
      ctx.status.root = { ...ctx.status.root, pid: undefined }; // as the containerd plugin's stopRoot
    });
    host.hooks.start.for('Container').tapPromise('fake', async (ctx) => {
      log.push(`start:${ctx.cell.ref.path[3]}/${ctx.doc.metadata.name}`);
      if (failing.starts > 0) {
        failing.starts -= 1;
        throw new Error('runc create failed: device or resource busy');
      }
      const p = pid++;
      tasks.set(k(ctx.cell.ref.path, ctx.doc.metadata.name), { status: 'running', pid: p });
      Object.assign(ctx.status, {
        state: 'Ready',
        pid: p,
        startTime: new Date().toISOString(),
        exitCode: undefined,
        finishTime: undefined,
      });
    });
    host.hooks.stop.for('Container').tapPromise('fake', async (ctx) => {
      log.push(`stop:${ctx.cell.ref.path[3]}/${ctx.doc.metadata.name}`);
      const key = k(ctx.cell.ref.path, ctx.doc.metadata.name);
      const t = tasks.get(key);
      tasks.delete(key);
      // a running task killed by kukeon sends its exit, as containerd does
      if (t?.status === 'running') emit(ctx.cell.ref.path, ctx.doc.metadata.name, 137);
      Object.assign(ctx.status, { state: 'Stopped', pid: undefined });
    });
    host.services.provide('runtime.events', {
      subscribe(fn, onSubscribed) {
        const l = { fn, onSubscribed };
        listeners.add(l);
        setImmediate(() => onSubscribed?.());
        return () => listeners.delete(l);
      },
    });
    host.services.provide('runtime.tasks', {
      get: async (cellPath, id) => tasks.get(k(cellPath, id)),
      list: async () => [],
      inventory: async () => [],
    });
  });
  const emit = (cellPath: readonly string[], container: string, exitCode: number) => {
    if (down) return;
    const e = { cellPath: [...cellPath], container, exitCode, time: new Date().toISOString() };
    setImmediate(() => {
      for (const l of listeners) l.fn(e);
    });
  };
  return {
    plugin,
    log,
    tasks,
    failing,
    /** The container's process ends with `code`. */
    exit(cell: string, id: string, code: number) {
      const t = tasks.get(`${cell}/${id}`);
      assert.ok(t?.status === 'running', `${cell}/${id} runs`);
      tasks.set(`${cell}/${id}`, { status: 'stopped', pid: t.pid, exitCode: code, exitedAt: new Date().toISOString() });
      emit(['main', 'blog', 'wp', cell], id, code);
    },
    setDown(v: boolean) {
      down = v;
    },
    resubscribed() {
      for (const l of listeners) l.onSubscribed?.();
    },
    starts: (cell: string, id: string) => log.filter((e) => e === `start:${cell}/${id}`).length,
  };
}

const workload = (id: string, extra: string) => `    - { id: ${id}, image: busybox, command: sleep, args: ["600"], ${extra} }\n`;

async function setup(cells: string, onFinished?: (r: { kind: 'Cell'; path: string[] }) => void) {
  const rt = fakeRuntime();
  const run = tmpDir();
  const host: Host = await testHost([rt.plugin], run);
  const report = await host.controller.apply(`${MANIFEST.split('---').slice(0, 3).join('---')}---\n${cells}`);
  assert.equal(
    report.items.filter((i) => i.action === 'failed'),
    [],
  );
  const supervisor = new Supervisor({
    lifecycle: host.lifecycle,
    state: host.state,
    services: host.services,
    reconcileIntervalMs: 0,
    onFinished: onFinished as never,
  });
  assert.ok(supervisor.start());
  // the subscription's own reconcile runs first: an exit a test sends "while unsubscribed" must not race it
  await new Promise((r) => setImmediate(r));
  await supervisor.reconcile();
  const cellDir = (cell: string) => path.join(run, 'main', 'blog', 'wp', cell);
  const status = (cell: string, id: string): ContainerStatus =>
    YAML.parse(fs.readFileSync(path.join(cellDir(cell), 'containers', `${id}.yaml`), 'utf8')).status;
  const cellStatus = (cell: string): CellStatus => YAML.parse(fs.readFileSync(path.join(cellDir(cell), 'cell.yaml'), 'utf8')).status;
  return { rt, host, supervisor, status, cellStatus };
}

const ref = (cell: string) => ({ kind: 'Cell' as const, path: ['main', 'blog', 'wp', cell] });

test('autoDelete: once every workload exited for good (after a grace), the cell is handed over for deletion; a restart pending or a cell without it is not', async () => {
  const finished: string[] = [];
  const auto = (name: string) =>
    cellManifest(name, `${workload('w', 'restartPolicy: never')}${workload('v', 'restartPolicy: never')}`).replace(
      '  stackId: wp\n',
      '  stackId: wp\n  autoDelete: true\n',
    );
  const { rt, supervisor, status } = await setup(
    `${auto('f')}---\n${cellManifest('g', workload('w', 'restartPolicy: never'))}---\n${auto('h').replace(/restartPolicy: never/g, 'restartPolicy: always, restartBackoffSeconds: 0.01')}`,
    (r) => finished.push(r.path.join('/')),
  );
  rt.exit('f', 'w', 0);
  rt.exit('g', 'w', 0);
  rt.exit('h', 'w', 1);
  rt.exit('h', 'v', 1);
  await waitFor('f/w recorded', () => status('f', 'w').state === 'Exited' && status('g', 'w').state === 'Exited', 10_000, 5);
  await new Promise((r) => setTimeout(r, 3500));
  assert.equal(finished, [], 'one workload of f still runs; g has no autoDelete; h restarts');
  rt.exit('f', 'v', 0);
  await waitFor('f handed over', () => finished.length === 1, 6000, 20);
  assert.equal(finished, ['main/blog/wp/f']);
  await supervisor.stop();
});

test('autoDelete looks again when its grace is over: a cell started again meanwhile is kept', async () => {
  const finished: string[] = [];
  const { rt, host, supervisor, status } = await setup(
    cellManifest('i', workload('w', 'restartPolicy: never')).replace('  stackId: wp\n', '  stackId: wp\n  autoDelete: true\n'),
    (r) => finished.push(r.path.join('/')),
  );
  rt.exit('i', 'w', 0);
  await waitFor('i/w recorded', () => status('i', 'w').state === 'Exited', 10_000, 5);
  await host.controller.start(ref('i'));
  assert.is(status('i', 'w').state, 'Ready');
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(finished, [], 'the restarted cell stays');
  await supervisor.stop();
});

test('on-failure with a cap of 2: exit 3 restarts twice (count 1, 2), then the container and the cell are Failed', async () => {
  const { rt, supervisor, status, cellStatus } = await setup(
    cellManifest('a', workload('w', 'restartPolicy: on-failure, restartMaxRetries: 2, restartBackoffSeconds: 0.01')),
  );
  for (const n of [1, 2]) {
    rt.exit('a', 'w', 3);
    await waitFor(`restart ${n}`, () => status('a', 'w').restartCount === n && status('a', 'w').state === 'Ready', 10_000, 5);
  }
  assert.is(status('a', 'w').exitCode, 3, 'the last exit is kept while it runs again');
  rt.exit('a', 'w', 3);
  await waitFor('Failed', () => status('a', 'w').state === 'Failed', 10_000, 5);
  assert.is(status('a', 'w').reason, 'Error');
  assert.match(status('a', 'w').message ?? '', 'gave up after 2 restarts (restartMaxRetries 2)');
  assert.equal([cellStatus('a').state, cellStatus('a').reason], ['Failed', 'Error']);
  assert.is(rt.starts('a', 'w'), 3, 'the apply and two restarts');
  await supervisor.stop();
});

test('always: the delay doubles, and starts over after a user restart; a pending restart shows as CrashLoopBackOff on a Degraded cell', async () => {
  const { rt, host, supervisor, status, cellStatus } = await setup(
    cellManifest('b', workload('w', 'restartPolicy: always, restartBackoffSeconds: 0.2')),
  );
  // the planned delay is read from the status message; the timestamps only bound it from below (how late the exit
  // is handled after it happened depends on the machine's load, not on the supervisor's rule)
  const delays: number[] = [];
  const planned: string[] = [];
  for (const n of [1, 2]) {
    rt.exit('b', 'w', 137);
    await waitFor('pending', () => !!status('b', 'w').nextRestartAt, 10_000, 5);
    const st = status('b', 'w');
    assert.equal([st.state, st.reason, st.exitSignal, cellStatus('b').state], ['Exited', 'CrashLoopBackOff', 'SIGKILL', 'Degraded']);
    delays.push(Date.parse(st.nextRestartAt!) - Date.parse(st.finishTime!));
    planned.push(/restarting in ([0-9.]+)s/.exec(st.message ?? '')?.[1] ?? st.message ?? '');
    await waitFor(`restart ${n}`, () => status('b', 'w').restartCount === n && cellStatus('b').state === 'Ready', 10_000, 5);
  }
  assert.equal(planned, ['0.2', '0.4'], 'the delay doubles');
  assert.ok(delays[0] >= 190 && delays[1] >= 390, `restarts are due no earlier than planned: ${delays} ms`);
  // a user's restart starts the count and the backoff over
  await host.controller.restart(ref('b'));
  assert.is(status('b', 'w').restartCount, undefined);
  rt.exit('b', 'w', 137);
  await waitFor('pending', () => !!status('b', 'w').nextRestartAt, 10_000, 5);
  assert.match(status('b', 'w').message ?? '', 'restarting in 0.2s', 'the delay after a user restart starts over');
  await supervisor.stop();
});

test('kuke stop: the kills it causes are not crashes, stoppedByUser is kept; a start clears it and the restart count', async () => {
  const { rt, host, supervisor, status, cellStatus } = await setup(
    cellManifest('c', workload('w', 'restartPolicy: always, restartBackoffSeconds: 0.01')),
  );
  rt.exit('c', 'w', 1);
  await waitFor('restarted', () => status('c', 'w').restartCount === 1 && status('c', 'w').state === 'Ready', 10_000, 5);
  await host.controller.stop(ref('c'));
  await new Promise((r) => setTimeout(r, 200));
  assert.is(status('c', 'w').stoppedByUser, true);
  assert.is(cellStatus('c').state, 'Stopped');
  assert.is(rt.tasks.get('c/w'), undefined, 'not restarted');
  await host.controller.start(ref('c'));
  assert.equal([status('c', 'w').stoppedByUser, status('c', 'w').restartCount], [undefined, undefined]);
  await supervisor.stop();
});

test('a root that dies: the cell goes down and starts again as a whole when a policy asks; else Stopped with the reason', async () => {
  const { rt, supervisor, status, cellStatus } = await setup(
    `${cellManifest('d', workload('w', 'restartPolicy: always, restartBackoffSeconds: 0.01'))}---\n${cellManifest('e', workload('w', 'restartPolicy: never'))}`,
  );
  rt.exit('d', 'root', 137);
  rt.exit('e', 'root', 137);
  await waitFor('d restarted', () => cellStatus('d').state === 'Ready' && status('d', 'w').restartCount === 1, 10_000, 5);
  assert.equal(rt.log.filter((e) => e.endsWith(':d') || e.includes(':d/')).slice(-4), [
    'stop:d/w',
    'stopRoot:d',
    'startRoot:d',
    'start:d/w',
  ]);
  await waitFor('e stopped', () => cellStatus('e').state === 'Stopped', 10_000, 5);
  assert.equal([cellStatus('e').reason, cellStatus('e').message], ['Killed', 'the root killed by SIGKILL']);
  assert.is(rt.tasks.get('e/w'), undefined, 'its workload went with it');
  await new Promise((r) => setTimeout(r, 100));
  assert.is(cellStatus('e').state, 'Stopped', 'the workload kill it caused is not handled as a crash');
  await supervisor.stop();
});

test('an exit sent while unsubscribed is found when the stream is back; exit 0 under on-failure is Completed', async () => {
  const { rt, supervisor, status, cellStatus } = await setup(
    `${cellManifest('f', workload('w', 'restartPolicy: on-failure, restartBackoffSeconds: 0.01'))}---\n${cellManifest('g', workload('w', 'restartPolicy: on-failure'))}`,
  );
  rt.setDown(true);
  rt.exit('f', 'w', 2);
  rt.exit('g', 'w', 0);
  await new Promise((r) => setTimeout(r, 100));
  assert.is(status('f', 'w').reason, undefined, 'nothing seen yet');
  rt.setDown(false);
  rt.resubscribed();
  await waitFor('f restarted', () => status('f', 'w').restartCount === 1 && status('f', 'w').state === 'Ready', 10_000, 5);
  await waitFor('g recorded', () => status('g', 'w').reason === 'Completed', 10_000, 5);
  assert.equal([status('g', 'w').state, status('g', 'w').restartCount, cellStatus('g').state], ['Exited', undefined, 'Exited']);
  assert.is(rt.starts('g', 'w'), 1);
  await supervisor.stop();
});

test("a restart that fails is tried again after the doubled delay (Docker's restart manager), counted as a restart", async () => {
  const { rt, supervisor, status, cellStatus } = await setup(
    cellManifest('h', workload('w', 'restartPolicy: always, restartBackoffSeconds: 0.05')),
  );
  rt.failing.starts = 2;
  rt.exit('h', 'w', 1);
  await waitFor('the first restart to fail', () => /restart failed/.test(status('h', 'w').message ?? ''), 10_000, 5);
  const st = status('h', 'w');
  assert.equal([st.state, st.reason, st.restartCount], ['Exited', 'CrashLoopBackOff', 1]);
  assert.match(st.message ?? '', /runc create failed: device or resource busy; retrying in 0\.1s/);
  assert.is(cellStatus('h').state, 'Degraded', 'a restart is still pending: not Failed');
  await waitFor(
    'running again after two failed starts',
    () => status('h', 'w').state === 'Ready' && status('h', 'w').restartCount === 3,
    3000,
    5,
  );
  assert.equal([status('h', 'w').restartCount, status('h', 'w').reason, cellStatus('h').state], [3, undefined, 'Ready']);
  assert.is(rt.starts('h', 'w'), 4, 'the apply, two failed starts and the one that worked');
  await supervisor.stop();
});

test('a cell restart that fails is tried again after the doubled delay; the cell is Degraded meanwhile, not Failed', async () => {
  const { rt, supervisor, status, cellStatus } = await setup(
    cellManifest('j', workload('w', 'restartPolicy: always, restartBackoffSeconds: 0.05')),
  );
  rt.failing.roots = 1;
  rt.exit('j', 'root', 137);
  await waitFor('the cell restart to fail', () => /restart failed/.test(cellStatus('j').message ?? ''), 10_000, 5);
  assert.equal([cellStatus('j').state, cellStatus('j').reason], ['Degraded', 'CrashLoopBackOff']);
  assert.match(cellStatus('j').message ?? '', 'no space left on device');
  // the failed restart and the one that worked both count
  await waitFor('the cell running again', () => cellStatus('j').state === 'Ready' && status('j', 'w').restartCount === 2, 10_000, 5);
  assert.is(rt.log.filter((e) => e === 'startRoot:j').length, 3, 'the apply, the failed restart and the one that worked');
  await supervisor.stop();
});

test('a root task neither running nor stopped (paused, or UNKNOWN while its shim is slow) is not taken for dead', async () => {
  const { rt, supervisor, cellStatus } = await setup(
    cellManifest('i', workload('w', 'restartPolicy: always, restartBackoffSeconds: 0.01')),
  );
  const root = rt.tasks.get('i/root')!;
  rt.tasks.set('i/root', { status: 'other', pid: root.pid });
  rt.resubscribed();
  await new Promise((r) => setTimeout(r, 200));
  assert.is(cellStatus('i').state, 'Ready');
  assert.not.ok(rt.log.includes('stopRoot:i'), 'the cell was not taken down');
  await supervisor.stop();
});

test('a root task neither running nor stopped whose pid the cell never recorded (left CREATED by an interrupted start) is dead', async () => {
  const { rt, supervisor, cellStatus } = await setup(
    cellManifest('k', workload('w', 'restartPolicy: always, restartBackoffSeconds: 0.01')),
  );
  rt.tasks.set('k/root', { status: 'other', pid: 99_999 });
  rt.resubscribed();
  await waitFor('the cell made again', () => rt.log.includes('stopRoot:k') && cellStatus('k').state === 'Ready', 10_000, 5);
  await supervisor.stop();
});

test.run();
