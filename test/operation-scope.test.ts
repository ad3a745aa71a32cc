// One scope per controller operation: a tap's Undo lands on the scope that every context of the operation carries
// (copies included), and aborting the operation's signal stops it between taps, unwinds and records Failed.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import type { CellContext } from '../sdk';
import { createHooks } from '../src/host/hooks';
import { HostOperationScope } from '../src/host/operation-scope';
import { MANIFEST, cellManifest, fakePlugin, testHost } from './helpers/hosts';
import { recordingRuntime } from './helpers/recording-runtime';
import type { Recorder } from './helpers/recording-runtime';
import { tmpDir } from './helpers/tmp';

const WEB = { kind: 'Cell' as const, path: ['main', 'blog', 'wp', 'web'] };
const readYaml = (run: string, rel: string) => YAML.parse(fs.readFileSync(path.join(run, rel), 'utf8'));
const recorder = (): Recorder => ({ events: [], seen: [] });

test("the interceptor finds a tap's Undo on a copy of the context", async () => {
  const { host: hooks, sdk } = createHooks({ current: () => 'p', isActive: () => true });
  const undone: string[] = [];
  sdk.create.for('Realm').tapPromise('p', async () => () => void undone.push('realm'));
  const scope = HostOperationScope.start();
  const ctx = { phase: 'create', ref: { kind: 'Realm', path: ['r'] }, force: false, signal: scope.signal, scope };
  await hooks.create.for('Realm').promise({ ...ctx, phase: 'create' });
  assert.is(scope.undo.size, 1);
  assert.equal(await scope.undo.unwind(), []);
  assert.equal(undone, ['realm']);
});

test('a child scope shares the signal, the id and the held locks, not the undo stack', async () => {
  const ac = new AbortController();
  const scope = HostOperationScope.start(ac.signal);
  const child = scope.child();
  assert.is(child.signal, scope.signal);
  assert.is(child.id, scope.id);
  await scope.holding('res.cell.a', async () => assert.ok(child.holds('res.cell.a')));
  assert.not.ok(child.holds('res.cell.a'));
  child.undo.push('x', () => {});
  assert.is(scope.undo.size, 0);
  ac.abort(new Error('client went away'));
  assert.throws(() => child.throwIfAborted(), /aborted: client went away/);
});

test('a container added to a running cell (contexts copied with {...ctx}) has its start Undo run when a later tap fails', async () => {
  const rec = recorder();
  const undone: string[] = [];
  let failStart = false;
  const undoer = fakePlugin('undoer', 'cgroups', (host) => {
    host.hooks.start
      .for('Container')
      .tapPromise({ name: 'undoer', stage: -10 }, async (ctx) => () => void undone.push(ctx.doc.metadata.name));
    host.hooks.start.for('Container').tapPromise({ name: 'breaker', stage: 10 }, async (ctx) => {
      if (failStart && ctx.doc.metadata.name === 'extra') throw new Error('extra broke');
    });
  });
  const host = await testHost([recordingRuntime(rec), undoer]);
  await host.controller.apply(MANIFEST);
  assert.equal(undone, []);
  failStart = true;
  const extra = cellManifest(
    'web',
    [
      '    - { id: nginx, image: "nginx:1.27", args: ["-g", "daemon off;"] }',
      '    - { id: sidecar, image: busybox, command: sleep, args: ["3600"] }',
      '    - { id: extra, image: busybox, command: sleep, args: ["3600"] }',
      '',
    ].join('\n'),
  );
  const report = await host.controller.apply(extra);
  assert.is(report.items[0].action, 'failed');
  assert.match(report.items[0].error!, /extra broke/);
  assert.ok(rec.byCell!.web.includes('start:extra'));
  assert.equal(undone, ['extra']);
});

test('aborting the signal mid-start stops before the next tap, unwinds the steps done and records Failed', async () => {
  const rec = recorder();
  const run = tmpDir();
  const ac = new AbortController();
  let seen: CellContext | undefined;
  let abortAt: string | undefined;
  const aborter = fakePlugin('aborter', 'cgroups', (host) => {
    host.hooks.cell.startRoot.tapPromise({ name: 'aborter', stage: 10 }, async (ctx) => {
      seen = ctx;
      if (abortAt === 'startRoot') ac.abort(new Error('client went away'));
    });
  });
  const host = await testHost([recordingRuntime(rec), aborter], run);
  await host.controller.apply(MANIFEST);
  await host.controller.stop(WEB);
  rec.events.length = 0;
  abortAt = 'startRoot';
  const err = await host.controller.start(WEB, { signal: ac.signal }).catch((e) => e);
  assert.match(err.message, /aborted: client went away/);
  assert.equal(rec.byCell!.web.slice(-4), ['prepare', 'startRoot', 'undo:startRoot', 'undo:prepare']);
  assert.not.ok(rec.events.includes('attachNetwork'));
  assert.is(seen!.signal, ac.signal);
  assert.is(seen!.scope.signal, ac.signal);
  const cell = readYaml(run, 'main/blog/wp/web/cell.yaml');
  assert.is(cell.status.state, 'Failed');
  assert.match(cell.status.message, /aborted/);
  // the lock went with the operation: a new one starts the cell
  abortAt = undefined;
  await host.controller.start(WEB);
  assert.is(readYaml(run, 'main/blog/wp/web/cell.yaml').status.state, 'Ready');
});

test('an operation whose signal is already aborted changes nothing', async () => {
  const run = tmpDir();
  const host = await testHost([], run);
  const ac = new AbortController();
  ac.abort();
  const report = await host.controller.apply('kind: Realm\nmetadata: { name: r }\n', { signal: ac.signal });
  assert.is(report.items[0].action, 'failed');
  assert.match(report.items[0].error!, /aborted/);
  assert.not.ok(fs.existsSync(path.join(run, 'r')));
});

test('delete --force goes on past backend errors, not past an abort: the record stays', async () => {
  const ac = new AbortController();
  const aborter = fakePlugin('aborter', 'cgroups', (host) =>
    host.hooks.delete.for('Realm').tapPromise('aborter', async () => void ac.abort(new Error('client went away'))),
  );
  const host = await testHost([aborter]);
  await host.controller.apply('kind: Realm\nmetadata: { name: r }\n');
  const err = await host.controller.delete({ kind: 'Realm', path: ['r'] }, { force: true, signal: ac.signal }).catch((e) => e);
  assert.match(err.message, /aborted: client went away/);
  assert.equal(
    (await host.controller.get({ kind: 'Realm', scope: [] })).map((d) => d.metadata.name),
    ['r'],
  );
});

test.run();
