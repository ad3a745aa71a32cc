// One container of a cell handled alone through the host's ControllerApi (in-process), with the recording runtime:
// create of a Container document adds it without starting it (docker create), start/stop/kill of its ref touch only
// it, delete of its ref removes only it; the cell's root goes only with its cell.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import type { AnyDoc, ContainerStatus, ControllerApi, Ref } from '../sdk';
import { HostOperationScope } from '../src/host/operation-scope';
import { MANIFEST, testHost } from './helpers/hosts';
import { type Recorder, recordingRuntime } from './helpers/recording-runtime';
import { tmpDir } from './helpers/tmp';

const STACK = ['main', 'blog', 'wp'];
const WEB: Ref = { kind: 'Cell', path: [...STACK, 'web'] };
const container = (cell: string, id: string): Ref => ({ kind: 'Container', path: [...STACK, cell, id] });
const EXTRA = container('web', 'extra');

/** The Container document of `extra` in cell `cell`. */
const containerDoc = (cell = 'web'): AnyDoc =>
  YAML.parse(
    `apiVersion: v1beta1\nkind: Container\nmetadata: { name: extra }\nspec: { id: extra, realmId: main, spaceId: blog, stackId: wp, cellId: ${cell}, image: busybox, command: sleep, args: ["60"] }\n`,
  );

/** A host with MANIFEST applied (web and db Ready) and its recorder emptied. */
async function running(): Promise<{ api: ControllerApi; rec: Recorder; run: string }> {
  const rec: Recorder = { events: [], seen: [] };
  const run = tmpDir();
  const host = await testHost([recordingRuntime(rec)], run);
  await host.api.apply({ text: MANIFEST });
  rec.events.length = 0;
  return { api: host.api, rec, run };
}

const statusOf = async (api: ControllerApi, ref: Ref): Promise<ContainerStatus> => {
  const [doc] = await api.get({ kind: 'Container', scope: ref.path.slice(0, 4), name: ref.path[4] });
  return (doc.status ?? {}) as ContainerStatus;
};
const cellOf = async (api: ControllerApi, cell = 'web') => {
  const [doc] = await api.get({ kind: 'Cell', scope: STACK, name: cell });
  return doc as AnyDoc & { kind: 'Cell' };
};
const containerIds = async (api: ControllerApi) => (await cellOf(api)).spec.containers.map((c) => c.id).sort();

/** The recorded events but create taps: a change of a cell converges every container's (they are idempotent). */
const besidesCreates = (rec: Recorder) => rec.events.filter((e) => !e.startsWith('create:'));

/** The KukeonError code `fn` throws (it must throw). */
async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  assert.unreachable('expected an error');
  return '';
}

test('create of a Container document adds it to the running cell without starting it', async () => {
  const { api, rec, run } = await running();
  const item = await api.create({ doc: containerDoc() });
  assert.is(item.action, 'created');
  assert.equal(item.ref, EXTRA);
  assert.ok(typeof item.commit === 'number', 'the commit of its cell');
  assert.ok(rec.events.includes('create:extra'), 'its create tap ran');
  assert.equal(besidesCreates(rec), [], 'no start tap, for it or any other container');
  assert.is((await statusOf(api, EXTRA)).state, 'Pending');
  assert.equal(await containerIds(api), ['extra', 'nginx', 'sidecar']);
  assert.is((await cellOf(api)).status?.state, 'Ready', 'the cell runs on');
  assert.is((await statusOf(api, container('web', 'nginx'))).state, 'Ready');
  assert.ok(fs.existsSync(path.join(run, 'main/blog/wp/web/containers/extra.yaml')));
});

test('create again: the same container is unchanged, another of that name is refused, a missing cell is refused', async () => {
  const { api, rec } = await running();
  await api.create({ doc: containerDoc() });
  rec.events.length = 0;
  const again = await api.create({ doc: containerDoc() });
  assert.is(again.action, 'unchanged');
  assert.is(again.commit, undefined, 'nothing written');
  const other = containerDoc() as AnyDoc & { spec: { args: string[] } };
  other.spec.args = ['120'];
  assert.is(await codeOf(() => api.create({ doc: other })), 'KUKEON_E_EXISTS');
  assert.equal(rec.events, [], 'neither touched the runtime');
  assert.equal((await cellOf(api)).spec.containers.find((c) => c.id === 'extra')?.args, ['60'], 'the first one is kept');
  assert.is(await codeOf(() => api.create({ doc: containerDoc('nope') })), 'KUKEON_E_PARENT_NOT_FOUND');
  assert.is(await codeOf(() => api.get({ kind: 'Cell', scope: STACK, name: 'nope' })), 'KUKEON_E_NOT_FOUND', 'no cell was made for it');
});

test('a cell deleted while the create waited for its lock: PARENT_NOT_FOUND, decided under the lock', async () => {
  const { api, run } = await running();
  await api.stop({ ref: WEB });
  // Another host (another process) holds the cell's lock and deletes the cell after the create checked its parent.
  const other = await testHost([], run);
  const scope = HostOperationScope.start();
  let onHeld!: () => void;
  const held = new Promise<void>((r) => (onHeld = r));
  const gone = other.lifecycle.withLock(WEB, scope, async () => {
    onHeld();
    await new Promise((r) => setTimeout(r, 300));
    await other.lifecycle.remove(WEB, { scope, locked: true });
  });
  await held;
  const created = codeOf(() => api.create({ doc: containerDoc() }));
  await gone;
  assert.is(await created, 'KUKEON_E_PARENT_NOT_FOUND');
  assert.not.ok(fs.existsSync(path.join(run, 'main/blog/wp/web')), 'nothing was written for it');
});

test('start of a created container starts only it; in a cell that is not running it is refused', async () => {
  const { api, rec } = await running();
  await api.create({ doc: containerDoc() });
  const nginxPid = (await statusOf(api, container('web', 'nginx'))).pid;
  rec.events.length = 0;
  await api.start({ ref: EXTRA });
  assert.equal(rec.events, ['start:extra'], 'no other step or container');
  const st = await statusOf(api, EXTRA);
  assert.is(st.state, 'Ready');
  assert.ok((st.pid ?? 0) > 0);
  assert.is((await statusOf(api, container('web', 'nginx'))).pid, nginxPid, 'nginx untouched');
  assert.is((await cellOf(api)).status?.state, 'Ready');

  await api.stop({ ref: WEB });
  rec.events.length = 0;
  assert.is(await codeOf(() => api.start({ ref: EXTRA })), 'KUKEON_E_STATE');
  assert.equal(rec.events, [], 'nothing started');
  assert.is((await statusOf(api, EXTRA)).state, 'Stopped');
});

test('stop and kill of a container stop only it, as a user: the cell stays Ready; a user start clears that', async () => {
  const { api, rec } = await running();
  await api.stop({ ref: container('web', 'sidecar'), timeoutMs: 3000 });
  assert.equal(rec.events, ['stop:sidecar:SIGTERM:3000'], 'no cell step, nginx untouched');
  const sidecar = await statusOf(api, container('web', 'sidecar'));
  assert.is(sidecar.state, 'Stopped');
  assert.is(sidecar.stoppedByUser, true, 'the supervisor leaves it stopped');
  assert.is((await statusOf(api, container('web', 'nginx'))).state, 'Ready');
  assert.is((await cellOf(api)).status?.state, 'Ready');

  rec.events.length = 0;
  await api.kill({ ref: container('web', 'nginx') });
  assert.equal(rec.events, ['stop:nginx:SIGKILL:0']);
  assert.is((await statusOf(api, container('web', 'nginx'))).stoppedByUser, true);
  assert.is((await cellOf(api)).status?.state, 'Ready');

  rec.events.length = 0;
  await api.start({ ref: container('web', 'sidecar') });
  assert.equal(rec.events, ['start:sidecar']);
  const started = await statusOf(api, container('web', 'sidecar'));
  assert.is(started.state, 'Ready');
  assert.is(started.stoppedByUser, undefined, "a user's start clears the user's stop");
});

test('delete of a container removes it from its cell and the store; the others run on; absent is NOT_FOUND', async () => {
  const { api, rec, run } = await running();
  await api.create({ doc: containerDoc() });
  await api.start({ ref: EXTRA });
  rec.events.length = 0;
  const removed = await api.delete({ ref: EXTRA });
  assert.is(removed.length, 1);
  assert.equal(removed[0].ref, EXTRA);
  assert.ok(typeof removed[0].commit === 'number');
  assert.equal(besidesCreates(rec), ['stop:extra:SIGTERM:10000', 'delete:extra'], 'stopped, its delete taps ran, nothing else');
  assert.not.ok(rec.events.includes('create:extra'));
  assert.equal(await containerIds(api), ['nginx', 'sidecar']);
  assert.not.ok(fs.existsSync(path.join(run, 'main/blog/wp/web/containers/extra.yaml')));
  assert.is(await codeOf(() => statusOf(api, EXTRA)), 'KUKEON_E_NOT_FOUND');
  assert.is((await cellOf(api)).status?.state, 'Ready');
  assert.is((await statusOf(api, container('web', 'sidecar'))).state, 'Ready');

  rec.events.length = 0;
  assert.is(await codeOf(() => api.delete({ ref: EXTRA })), 'KUKEON_E_NOT_FOUND');
  assert.is(await codeOf(() => api.start({ ref: EXTRA })), 'KUKEON_E_NOT_FOUND');
  assert.is(await codeOf(() => api.stop({ ref: EXTRA })), 'KUKEON_E_NOT_FOUND');
  assert.is(await codeOf(() => api.delete({ ref: container('nope', 'extra') })), 'KUKEON_E_NOT_FOUND');
  assert.equal(rec.events, []);
});

test("a cell's root is started, stopped, killed and deleted only with its cell", async () => {
  const { api, rec } = await running();
  const pg = container('db', 'pg'); // db's declared root
  assert.is(await codeOf(() => api.start({ ref: pg })), 'KUKEON_E_USAGE');
  assert.is(await codeOf(() => api.stop({ ref: pg })), 'KUKEON_E_USAGE');
  assert.is(await codeOf(() => api.kill({ ref: pg })), 'KUKEON_E_USAGE');
  assert.is(await codeOf(() => api.delete({ ref: pg })), 'KUKEON_E_USAGE');
  assert.equal(rec.events, [], 'the runtime saw none of them');
  assert.equal(
    (await cellOf(api, 'db')).spec.containers.map((c) => c.id),
    ['pg'],
  );
  assert.is((await cellOf(api, 'db')).status?.state, 'Ready');
  assert.is((await statusOf(api, pg)).stoppedByUser, undefined);
});

test.run();
