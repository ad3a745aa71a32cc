import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { KukeonError, type Ref } from '../sdk';
import type { Host } from '../src/host';
import { lockName } from '../src/host/controller/lifecycle';
import { HostOperationScope } from '../src/host/operation-scope';
import { validateDocument } from '../src/host/validation/validate-document';
import { MANIFEST, cellManifest, fakePlugin, testHost } from './helpers/hosts';
import { recordingRuntime } from './helpers/recording-runtime';
import type { Recorder } from './helpers/recording-runtime';
import { tmpDir } from './helpers/tmp';

const WEB = { kind: 'Cell' as const, path: ['main', 'blog', 'wp', 'web'] };
const readYaml = (run: string, rel: string) => YAML.parse(fs.readFileSync(path.join(run, rel), 'utf8'));
const recorder = (): Recorder => ({ events: [], seen: [] });

/**
 * Another host (another process) takes `ref`'s lock (`held` resolves then) and keeps it 500 ms, so that an
 * operation started meanwhile waits for it; then runs `write` under it and releases (`done`).
 */
function holdThen(
  other: Host,
  ref: Ref,
  write: (scope: HostOperationScope) => Promise<void>,
): { held: Promise<void>; done: Promise<void> } {
  const scope = HostOperationScope.start();
  let onHeld!: () => void;
  const held = new Promise<void>((r) => (onHeld = r));
  const done = other.lifecycle.withLock(ref, scope, async () => {
    onHeld();
    await new Promise((r) => setTimeout(r, 500));
    await write(scope);
  });
  return { held, done };
}

test('apply starts each cell through exactly its steps in order, workloads inside startWorkloads', async () => {
  const rec = recorder();
  const run = tmpDir();
  const host = await testHost([recordingRuntime(rec)], run);
  await host.controller.apply(MANIFEST);
  const web = rec.byCell!.web;
  // the host's own startWorkloads tap (stage 0, registered first) runs the Container hooks; the recorder's
  // startWorkloads tap (stage 0, registered later) runs after it
  assert.equal(web.slice(0, 9), [
    'create:nginx',
    'create:sidecar',
    'prepare',
    'startRoot',
    'attachNetwork',
    'start:nginx',
    'start:sidecar',
    'startWorkloads',
    'verify',
  ]);
  // db's root is its declared container pg: it is not a workload
  assert.not.ok(rec.byCell!.db.includes('start:pg'));
  assert.equal(rec.byCell!.db, ['create:pg', 'prepare', 'startRoot', 'attachNetwork', 'startWorkloads', 'verify']);
  const cell = readYaml(run, 'main/blog/wp/web/cell.yaml');
  assert.is(cell.status.state, 'Ready');
  assert.is(cell.status.root.pid, 4242);
  assert.is(readYaml(run, 'main/blog/wp/web/containers/nginx.yaml').status.state, 'Ready');
});

test('step 3 fails: undos of steps 2 then 1 run, the status set so far is kept and the record reads Failed', async () => {
  const rec: Recorder = { ...recorder(), failAt: 'attachNetwork' };
  const run = tmpDir();
  const host = await testHost([recordingRuntime(rec)], run);
  const report = await host.controller.apply(MANIFEST.split('---').slice(0, 4).join('---'));
  const web = report.items.find((i) => i.ref.path.join('/') === 'main/blog/wp/web')!;
  assert.is(web.action, 'failed');
  assert.equal(rec.events.slice(rec.events.indexOf('prepare')), [
    'prepare',
    'startRoot',
    'attachNetwork',
    'undo:startRoot',
    'undo:prepare',
  ]);
  const cell = readYaml(run, 'main/blog/wp/web/cell.yaml');
  assert.is(cell.status.state, 'Failed');
  assert.is(cell.status.reason, 'KUKEON_E_STEP');
  assert.match(cell.status.message, /attachNetwork broke/);
  assert.is(cell.status.root.pid, 4242, 'the root pid persisted after startRoot survives the failure');
  // a re-apply converges
  await host.controller.apply(MANIFEST);
  assert.is(readYaml(run, 'main/blog/wp/web/cell.yaml').status.state, 'Ready');
});

test("a failed item carries the error's hint, so the report says what to do about it", async () => {
  const hint = 'remove the directory, then apply again';
  const rec: Recorder = { ...recorder(), failAt: 'startWorkloads', failWith: new KukeonError('KUKEON_E_STEP', 'shim lost', { hint }) };
  const host = await testHost([recordingRuntime(rec)], tmpDir());
  const report = await host.controller.apply(MANIFEST.split('---').slice(0, 4).join('---'));
  const web = report.items.find((i) => i.ref.path.join('/') === 'main/blog/wp/web')!;
  assert.is(web.action, 'failed');
  assert.is(web.code, 'KUKEON_E_STEP');
  assert.match(web.error ?? '', /shim lost/);
  assert.match(web.error ?? '', hint);
});

test('an undo that throws is added to the message and the other undos still run', async () => {
  const rec: Recorder = { ...recorder(), failAt: 'verify', failUndo: 'startRoot' };
  const run = tmpDir();
  const host = await testHost([recordingRuntime(rec)], run);
  await host.controller.apply(MANIFEST.split('---').slice(0, 4).join('---'));
  assert.equal(rec.events.slice(rec.events.indexOf('verify')), [
    'verify',
    'undo:startWorkloads',
    'undo:attachNetwork',
    'undo:startRoot',
    'undo:prepare',
  ]);
  const cell = readYaml(run, 'main/blog/wp/web/cell.yaml');
  assert.is(cell.status.state, 'Failed');
  assert.match(cell.status.message, /verify broke; undo recorder:recorder@cell.startRoot failed: undo of startRoot broke/);
});

test('a new host (another process) stops what an earlier one started: the context is loaded from saved status', async () => {
  const run = tmpDir();
  const first = recorder();
  await (await testHost([recordingRuntime(first)], run)).controller.apply(MANIFEST);
  const second = recorder();
  const host = await testHost([recordingRuntime(second)], run);
  await host.controller.stop(WEB);
  assert.equal(second.events, [
    'stop:sidecar:SIGTERM:10000',
    'stop:nginx:SIGTERM:10000',
    'stopWorkloads',
    'detachNetwork',
    'stopRoot',
    'release',
  ]);
  assert.is(second.seen[0].rootPid, 4242);
  assert.is(second.seen[0].space, 'blog', 'parents are loaded too');
  assert.is(readYaml(run, 'main/blog/wp/web/cell.yaml').status.state, 'Stopped');
  assert.is(readYaml(run, 'main/blog/wp/web/containers/nginx.yaml').status.state, 'Stopped');
});

test("a cell's workloads stop at once: their grace periods run side by side, not one after another", async () => {
  const rec = recorder();
  let inFlight = 0;
  let most = 0;
  let bothIn!: () => void;
  const together = new Promise<void>((r) => (bothIn = r));
  // each stop waits until the other has begun too (or 3 s, so a one-after-another stop ends, and fails below)
  const slowStops = fakePlugin('slow-stops', undefined, (h) =>
    h.hooks.stop.for('Container').tapPromise('slow-stops', async () => {
      most = Math.max(most, ++inFlight);
      if (inFlight === 2) bothIn();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([together, new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer);
      inFlight--;
    }),
  );
  const host = await testHost([recordingRuntime(rec), slowStops]);
  await host.controller.apply(MANIFEST);
  rec.events.length = 0;
  await host.controller.stop(WEB);
  assert.is(most, 2, 'both workloads were stopping at the same time');
  assert.equal(rec.events.slice(0, 3), ['stop:sidecar:SIGTERM:10000', 'stop:nginx:SIGTERM:10000', 'stopWorkloads'], 'begun last first');
});

test('kill is stop with SIGKILL and 0; restart is stop then start; stop runs every step even when one fails', async () => {
  const rec = recorder();
  const run = tmpDir();
  const host = await testHost([recordingRuntime(rec)], run);
  await host.controller.apply(MANIFEST);
  rec.events.length = 0;
  await host.controller.kill(WEB);
  assert.ok(rec.events.includes('stop:nginx:SIGKILL:0'));
  rec.events.length = 0;
  await host.controller.restart(WEB);
  assert.equal(rec.events.slice(0, 6), [
    'stop:sidecar:SIGTERM:10000',
    'stop:nginx:SIGTERM:10000',
    'stopWorkloads',
    'detachNetwork',
    'stopRoot',
    'release',
  ]);
  assert.equal(rec.events.slice(6, 9), ['prepare', 'startRoot', 'attachNetwork']);
  rec.events.length = 0;
  rec.failAt = 'detachNetwork';
  try {
    await host.controller.stop(WEB);
    assert.unreachable('stop should report the failed step');
  } catch (err) {
    assert.match((err as Error).message, /detachNetwork: detachNetwork broke/);
  }
  assert.ok(rec.events.includes('stopRoot') && rec.events.includes('release'), 'later stop steps still ran');
  assert.is(readYaml(run, 'main/blog/wp/web/cell.yaml').status.state, 'Failed');
});

test('a second operation on a busy resource waits, then fails with KUKEON_E_BUSY', async () => {
  const host = await testHost([recordingRuntime(recorder())], tmpDir(), 300);
  await host.controller.apply(MANIFEST);
  let release!: () => void;
  let acquired!: () => void;
  const isHeld = new Promise<void>((r) => (acquired = r));
  const held = host.locks.with(lockName(WEB), () => {
    acquired();
    return new Promise<void>((r) => (release = r));
  });
  await isHeld;
  const started = Date.now();
  try {
    await host.controller.stop(WEB);
    assert.unreachable('expected BUSY');
  } catch (err) {
    assert.is((err as { code: string }).code, 'KUKEON_E_BUSY');
  }
  assert.ok(Date.now() - started >= 250, 'it waited before giving up');
  release();
  await held;
  await host.controller.stop(WEB);
});

test('without a runtime a cell is stored Pending and never started', async () => {
  const run = tmpDir();
  const host = await testHost([], run);
  const report = await host.controller.apply(MANIFEST);
  assert.ok(report.items.every((i) => i.action === 'created'));
  assert.is(readYaml(run, 'main/blog/wp/web/cell.yaml').status.state, 'Pending');
  try {
    await host.controller.start(WEB);
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, 'KUKEON_E_NO_RUNTIME');
  }
  assert.is(readYaml(run, 'main/blog/wp/web/cell.yaml').status.state, 'Pending');
});

test('applying a changed container recreates only that one; removed containers go; the others stay running', async () => {
  const rec = recorder();
  const run = tmpDir();
  const host = await testHost([recordingRuntime(rec)], run);
  await host.controller.apply(MANIFEST);
  const sidecarPid = readYaml(run, 'main/blog/wp/web/containers/sidecar.yaml').status.pid;
  rec.events.length = 0;
  const changed = cellManifest('web', '    - { id: nginx, image: "nginx:1.28" }\n');
  const report = await host.controller.apply(changed);
  assert.is(report.items[0].action, 'updated');
  assert.equal(report.items[0].changes, ['metadata.labels', 'container sidecar removed', 'container nginx changed']);
  assert.equal(rec.events.slice(0, 6), [
    'stop:sidecar:SIGTERM:10000',
    'delete:sidecar',
    'stop:nginx:SIGTERM:10000',
    'delete:nginx',
    'create:nginx',
    'start:nginx',
  ]);
  assert.not.ok(fs.existsSync(path.join(run, 'main/blog/wp/web/containers/sidecar.yaml')));
  assert.is(readYaml(run, 'main/blog/wp/web/containers/nginx.yaml').spec.image, 'nginx:1.28');
  assert.ok(sidecarPid > 0);
  // unchanged apply touches nothing
  rec.events.length = 0;
  assert.is((await host.controller.apply(changed)).items[0].action, 'unchanged');
  assert.equal(
    rec.events.filter((e) => e.startsWith('start') || e.startsWith('stop')),
    [],
  );
});

test('delete of a cell stops it, deletes its containers, then removes its directory', async () => {
  const rec = recorder();
  const run = tmpDir();
  const host = await testHost([recordingRuntime(rec)], run);
  await host.controller.apply(MANIFEST);
  rec.events.length = 0;
  await host.controller.delete(WEB);
  assert.equal(rec.events.slice(0, 3), ['stop:sidecar:SIGTERM:10000', 'stop:nginx:SIGTERM:10000', 'stopWorkloads']);
  assert.equal(rec.events.slice(-2), ['delete:sidecar', 'delete:nginx']);
  assert.not.ok(fs.existsSync(path.join(run, 'main/blog/wp/web')));
});

test('a cascade goes on past a child another process deleted after it was listed; each removal reports its commit', async () => {
  const run = tmpDir();
  const other = await testHost([], run);
  let raced = false;
  // While the cascade deletes cell db, another host (another process) deletes web, which the cascade listed too.
  const racer = fakePlugin('racer', undefined, (h) =>
    h.hooks.delete.for('Cell').tapPromise('racer', async (ctx) => {
      if (ctx.ref.path[3] !== 'db' || raced) return;
      raced = true;
      await other.controller.delete(WEB);
    }),
  );
  const host = await testHost([racer], run);
  await host.controller.apply(MANIFEST);
  const removed = await host.controller.delete({ kind: 'Realm', path: ['main'] }, { cascade: true });
  assert.ok(raced);
  assert.equal(
    removed.map((i) => i.ref.path.join('/')),
    ['main/blog/wp/db', 'main/blog/wp', 'main/blog', 'main'],
  );
  const commits = removed.map((i) => i.commit ?? 0);
  assert.ok(
    commits.every((c, i) => c > 0 && (i === 0 || c > commits[i - 1])),
    `commits ascend: ${commits}`,
  );
  assert.not.ok(fs.existsSync(path.join(run, 'main')));
});

test('an implicit parent never replaces one another process made while the apply waited for its lock', async () => {
  const run = tmpDir();
  const other = await testHost([], run);
  const host = await testHost([], run);
  const realmRef = { kind: 'Realm' as const, path: ['main'] };
  const mine = 'apiVersion: v1beta1\nkind: Realm\nmetadata: { name: main, labels: { owner: other } }\n';
  // Another host (process) holds the realm's lock and makes the realm after the apply planned it as implicit.
  const made = holdThen(other, realmRef, (scope) =>
    other.lifecycle.create(validateDocument(YAML.parse(mine), 0).doc, realmRef, { scope, locked: true }),
  );
  await made.held;
  const report = await host.controller.apply(
    MANIFEST.split(/^---\n/m)
      .slice(3)
      .join('---\n'),
  );
  await made.done;
  const realm = report.items.find((i) => i.ref.kind === 'Realm');
  assert.is(realm?.action, 'unchanged', 'the realm was there once its lock was free');
  assert.is(realm?.commit, undefined, 'nothing was written for it');
  assert.equal(readYaml(run, 'main/realm.yaml').metadata.labels, { owner: 'other' });
});

test('apply of a cell, and of a Container document, decides and merges under the cell lock, never from a stale read', async () => {
  const run = tmpDir();
  const other = await testHost([], run);
  const host = await testHost([], run);
  const cellDoc = (labels: string, containers: string[]) =>
    validateDocument(
      YAML.parse(
        `apiVersion: v1beta1\nkind: Cell\nmetadata: { name: web, labels: { by: ${labels} } }\nspec:\n  realmId: main\n  spaceId: blog\n  stackId: wp\n` +
          `  containers:\n${containers.map((c) => `    - { id: ${c}, image: busybox }`).join('\n')}\n`,
      ),
      0,
    ).doc;
  // Another host (process) makes the cell while this apply waits for the cell's lock, planned as a create.
  await host.controller.apply(
    MANIFEST.split(/^---\n/m)
      .slice(0, 3)
      .join('---\n'),
  );
  const made = holdThen(other, WEB, (scope) => other.lifecycle.create(cellDoc('other', ['x', 'y']), WEB, { scope, locked: true }));
  await made.held;
  await host.controller.apply(MANIFEST.split(/^---\n/m)[3]);
  await made.done;
  const ids = () => fs.readdirSync(path.join(run, 'main/blog/wp/web/containers')).sort();
  assert.equal(ids(), ['nginx.yaml', 'sidecar.yaml'], "the other's containers went: the apply updated the cell it found");

  // A Container document merged into a cell read before another process relabelled it would undo the relabel.
  const relabelled = holdThen(other, WEB, (scope) =>
    other.lifecycle.create(cellDoc('relabel', ['nginx', 'sidecar']), WEB, { scope, locked: true }),
  );
  await relabelled.held;
  const one =
    'apiVersion: v1beta1\nkind: Container\nmetadata: { name: extra }\nspec: { id: extra, realmId: main, spaceId: blog, stackId: wp, cellId: web, image: busybox }\n';
  const item = (await host.controller.apply(one)).items[0];
  await relabelled.done;
  assert.is(item.action, 'created', item.error);
  assert.ok(typeof item.commit === 'number', 'a Container document reports the commit of its cell');
  assert.equal(readYaml(run, 'main/blog/wp/web/cell.yaml').metadata.labels, { by: 'relabel' });
  assert.equal(ids(), ['extra.yaml', 'nginx.yaml', 'sidecar.yaml']);
});

test.run();
