import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import type {
  CellDoc,
  ContainerDoc,
  Diagnosis,
  DiagnoseService,
  KukeonError,
  PluginHost,
  RealmDoc,
  Ref,
  SpaceDoc,
  StackDoc,
  StoreService,
} from '../sdk';
import { FileLocks } from '../src/host/file-locks';
import { YamlStore } from '../plugins/store-yaml/yaml-store';
import { cleanStrayTemps } from '../plugins/store-yaml/atomic-write';
import storeYaml from '../plugins/store-yaml';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-store-'));
let n = 0;
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fresh run path (not created yet) and a store on it, with the host's lock layout. */
function fresh(): { run: string; store: YamlStore } {
  const run = path.join(tmp, `run${++n}`);
  // every read re-checks its file here; the default (a second) is tested on its own below
  return { run, store: new YamlStore(run, new FileLocks(path.join(run, 'run', 'locks')), { handEditRecheckMs: 0 }) };
}

const realm = (name = 'r1', version = '1'): RealmDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Realm',
  metadata: { name, labels: { version } },
  spec: { namespace: `kukeon-${name}` },
  status: { state: 'Ready', createdAt: '2024-01-01T00:00:00.000Z' },
});
const space = (name = 's1', realmId = 'r1'): SpaceDoc => ({ apiVersion: 'v1beta1', kind: 'Space', metadata: { name }, spec: { realmId } });
const stack = (name = 't1'): StackDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Stack',
  metadata: { name },
  spec: { realmId: 'r1', spaceId: 's1' },
});
const cell = (name = 'c1'): CellDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Cell',
  metadata: { name },
  spec: { realmId: 'r1', spaceId: 's1', stackId: 't1', containers: [] },
});
const container = (name = 'web', cellId = 'c1'): ContainerDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Container',
  metadata: { name },
  spec: { id: name, realmId: 'r1', spaceId: 's1', stackId: 't1', cellId, image: 'docker.io/library/nginx:1.27', env: ['A=1'] },
});

async function putTree(store: StoreService): Promise<void> {
  await store.put(realm());
  await store.put(space());
  await store.put(stack());
  await store.put(cell());
  await store.put(container());
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.is((e as { code?: string }).code, code, String(e));
    return e as Error;
  }
  assert.unreachable(`expected a rejection with ${code}`);
  throw new Error('unreachable');
}

function runChild(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'store-updater.js'), ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

test('put/get/list at every level, at exactly the documented paths', async () => {
  const { run, store } = fresh();
  await putTree(store);
  for (const rel of [
    'r1/realm.yaml',
    'r1/s1/space.yaml',
    'r1/s1/t1/stack.yaml',
    'r1/s1/t1/c1/cell.yaml',
    'r1/s1/t1/c1/containers/web.yaml',
  ]) {
    assert.ok(fs.statSync(path.join(run, rel)).isFile(), rel);
  }
  // Stored exactly as given.
  assert.equal(YAML.parse(fs.readFileSync(path.join(run, 'r1/realm.yaml'), 'utf8')), realm());
  assert.equal(await store.get({ kind: 'Realm', path: ['r1'] }), realm());
  assert.equal(await store.get({ kind: 'Space', path: ['r1', 's1'] }), space());
  assert.equal(await store.get({ kind: 'Stack', path: ['r1', 's1', 't1'] }), stack());
  assert.equal(await store.get({ kind: 'Cell', path: ['r1', 's1', 't1', 'c1'] }), cell());
  assert.equal(await store.get({ kind: 'Container', path: ['r1', 's1', 't1', 'c1', 'web'] }), container());
  assert.equal(await store.list('Realm', []), [realm()]);
  assert.equal(await store.list('Space', ['r1']), [space()]);
  assert.equal(await store.list('Stack', ['r1', 's1']), [stack()]);
  assert.equal(await store.list('Cell', ['r1', 's1', 't1']), [cell()]);
  assert.equal(await store.list('Container', ['r1', 's1', 't1', 'c1']), [container()]);
  assert.is(await store.get({ kind: 'Realm', path: ['nope'] }), undefined);
  assert.equal(await store.list('Space', ['nope']), []);
  assert.is(store.location({ kind: 'Cell', path: ['r1', 's1', 't1', 'c1'] }), path.join(run, 'r1/s1/t1/c1'));
  assert.is(store.location({ kind: 'Container', path: ['r1', 's1', 't1', 'c1', 'web'] }), path.join(run, 'r1/s1/t1/c1/containers'));
});

test('put replaces, and list is sorted by name', async () => {
  const { store } = fresh();
  for (const name of ['b', 'c', 'a']) await store.put(realm(name));
  await store.put(realm('b', '2'));
  const names = (await store.list('Realm', [])).map((d) => d.metadata.name);
  assert.equal(names, ['a', 'b', 'c']);
  assert.is((await store.get({ kind: 'Realm', path: ['b'] }))?.metadata.labels?.version, '2');
});

test('remove at every level: a container removes only its yaml, a cell its whole directory', async () => {
  const { run, store } = fresh();
  await putTree(store);
  await store.put(container('api'));
  const cellDir = path.join(run, 'r1/s1/t1/c1');
  fs.mkdirSync(path.join(cellDir, 'logs'));
  fs.writeFileSync(path.join(cellDir, 'logs', 'web.log'), 'hello\n');

  await store.remove({ kind: 'Container', path: ['r1', 's1', 't1', 'c1', 'web'] });
  assert.not.ok(fs.existsSync(path.join(cellDir, 'containers/web.yaml')));
  assert.ok(fs.existsSync(path.join(cellDir, 'containers/api.yaml')));
  assert.ok(fs.existsSync(path.join(cellDir, 'logs/web.log')), 'a container remove leaves the cell files');
  assert.equal(
    (await store.list('Container', ['r1', 's1', 't1', 'c1'])).map((d) => d.metadata.name),
    ['api'],
  );

  await store.remove({ kind: 'Cell', path: ['r1', 's1', 't1', 'c1'] });
  assert.not.ok(fs.existsSync(cellDir));
  assert.equal(await store.list('Cell', ['r1', 's1', 't1']), []);
  await store.remove({ kind: 'Stack', path: ['r1', 's1', 't1'] });
  assert.not.ok(fs.existsSync(path.join(run, 'r1/s1/t1')));
  await store.remove({ kind: 'Space', path: ['r1', 's1'] });
  assert.not.ok(fs.existsSync(path.join(run, 'r1/s1')));
  await store.remove({ kind: 'Realm', path: ['r1'] });
  assert.not.ok(fs.existsSync(path.join(run, 'r1')));
  assert.equal(await store.list('Realm', []), []);
  // Nothing left behind but the reserved runtime directory.
  assert.equal(fs.readdirSync(run), ['run']);
});

test('remove of a missing ref succeeds, at every level', async () => {
  const { store } = fresh();
  await store.remove({ kind: 'Realm', path: ['gone'] });
  await store.remove({ kind: 'Cell', path: ['a', 'b', 'c', 'd'] });
  await store.remove({ kind: 'Container', path: ['a', 'b', 'c', 'd', 'e'] });
  await store.put(realm());
  await store.remove({ kind: 'Space', path: ['r1', 'missing'] });
  assert.ok(await store.get({ kind: 'Realm', path: ['r1'] }));
});

test('put of a child without its parent fails with KUKEON_E_PARENT_NOT_FOUND and writes nothing', async () => {
  const { run, store } = fresh();
  await rejectsWith(store.put(space('s1', 'r9')), 'KUKEON_E_PARENT_NOT_FOUND');
  assert.not.ok(fs.existsSync(path.join(run, 'r9')));
  await store.put(realm());
  await rejectsWith(store.put(stack()), 'KUKEON_E_PARENT_NOT_FOUND');
  assert.not.ok(fs.existsSync(path.join(run, 'r1/s1')));
  await store.put(space());
  await store.put(stack());
  const err = await rejectsWith(store.put(container()), 'KUKEON_E_PARENT_NOT_FOUND');
  assert.match(err.message, /cell\/r1\/s1\/t1\/c1/);
  assert.not.ok(fs.existsSync(path.join(run, 'r1/s1/t1/c1')));
  // update creating a document checks the parent too.
  await rejectsWith(
    store.update({ kind: 'Cell', path: ['r1', 's1', 'zz', 'c1'] }, () => cell()),
    'KUKEON_E_PARENT_NOT_FOUND',
  );
});

test('list ignores the reserved run/ directory, temp files, dot files and invalid names', async () => {
  const { run, store } = fresh();
  await putTree(store); // also creates run/locks
  fs.writeFileSync(path.join(run, 'run', 'realm.yaml'), YAML.stringify(realm('run')));
  for (const dir of ['Bad_Name', '.hidden', '.r2.tmp-1-abc', 'no-doc']) fs.mkdirSync(path.join(run, dir));
  fs.writeFileSync(path.join(run, 'Bad_Name', 'realm.yaml'), YAML.stringify(realm()));
  fs.writeFileSync(path.join(run, '.hidden', 'realm.yaml'), YAML.stringify(realm()));
  fs.writeFileSync(path.join(run, 'stray.yaml'), 'x: 1\n');
  fs.writeFileSync(path.join(run, 'r1', '.realm.yaml.tmp-1-abcdef'), 'half');
  const containers = path.join(run, 'r1/s1/t1/c1/containers');
  fs.writeFileSync(path.join(containers, '.web.yaml.tmp-1-abcdef'), 'half');
  fs.writeFileSync(path.join(containers, 'notes.txt'), 'hi');
  fs.writeFileSync(path.join(containers, 'Bad.yaml'), YAML.stringify(container()));
  fs.mkdirSync(path.join(containers, 'dir.yaml'));
  assert.equal(
    (await store.list('Realm', [])).map((d) => d.metadata.name),
    ['r1'],
  );
  assert.equal(
    (await store.list('Container', ['r1', 's1', 't1', 'c1'])).map((d) => d.metadata.name),
    ['web'],
  );
  assert.equal(await store.get({ kind: 'Realm', path: ['r1'] }), realm());
});

test('invalid and reserved names never become paths', async () => {
  const { run, store } = fresh();
  for (const bad of ['..', 'a/b', 'Bad', '-a', '', 'a'.repeat(64)]) {
    await rejectsWith(store.get({ kind: 'Realm', path: [bad] }), 'KUKEON_E_INVALID_NAME');
    await rejectsWith(store.put(realm(bad)), 'KUKEON_E_INVALID_NAME');
  }
  await rejectsWith(store.list('Space', ['../etc']), 'KUKEON_E_INVALID_NAME');
  await rejectsWith(store.put(realm('run')), 'KUKEON_E_RESERVED_NAME');
  await rejectsWith(store.remove({ kind: 'Realm', path: ['run'] }), 'KUKEON_E_RESERVED_NAME');
  // A container document without its parent ids cannot be placed.
  await rejectsWith(store.put({ ...container(), spec: { id: 'web' } }), 'KUKEON_E_INVALID_NAME');
  assert.not.ok(fs.existsSync(run) && fs.readdirSync(run).some((f) => f !== 'run'));
});

test('a file that does not parse fails with KUKEON_E_STORE naming the file', async () => {
  const { run, store } = fresh();
  await store.put(realm());
  const file = path.join(run, 'r1', 'realm.yaml');
  fs.writeFileSync(file, 'kind: [unclosed\n');
  const err = await rejectsWith(store.get({ kind: 'Realm', path: ['r1'] }), 'KUKEON_E_STORE');
  assert.ok(err.message.includes(file), err.message);
  await rejectsWith(store.list('Realm', []), 'KUKEON_E_STORE');
  fs.writeFileSync(file, '- a list\n');
  await rejectsWith(store.get({ kind: 'Realm', path: ['r1'] }), 'KUKEON_E_STORE');
});

test('a long-lived store sees an edit by hand within a second, and a write by another kukeon process at once', async () => {
  const run = path.join(tmp, `run${++n}`);
  const store = new YamlStore(run, new FileLocks(path.join(run, 'run', 'locks')));
  await store.put(realm('r1', '1'));
  assert.is((await store.get({ kind: 'Realm', path: ['r1'] }))?.metadata.labels?.version, '1');
  const other = new YamlStore(run, new FileLocks(path.join(run, 'run', 'locks')));
  await other.put(realm('r1', '2'));
  assert.is((await store.get({ kind: 'Realm', path: ['r1'] }))?.metadata.labels?.version, '2', 'another process: at once');
  const file = path.join(run, 'r1', 'realm.yaml');
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.replace(/version: (["']?)2\1/, 'version: "3"'));
  assert.not.equal(fs.readFileSync(file, 'utf8'), text, 'the file was edited');
  await new Promise((r) => setTimeout(r, 1100));
  assert.is((await store.get({ kind: 'Realm', path: ['r1'] }))?.metadata.labels?.version, '3', 'by hand: within a second');
});

test('update: creates, merges, and leaves the document alone when fn returns undefined', async () => {
  const { store } = fresh();
  const ref = { kind: 'Realm' as const, path: ['r1'] };
  assert.equal(await store.update(ref, (cur) => (cur ? cur : realm())), realm());
  const next = await store.update(ref, (cur) => cur && { ...cur, status: { ...cur.status, state: 'Stopped' } });
  assert.is(next?.status?.state, 'Stopped');
  assert.is((await store.get(ref))?.status?.state, 'Stopped');
  assert.is((await store.update(ref, () => undefined))?.status?.state, 'Stopped');
  await rejectsWith(
    store.update(ref, () => realm('other')),
    'KUKEON_E_INTERNAL',
  );
  assert.is((await store.get(ref))?.metadata.name, 'r1');
});

test('2 processes x 50 updates each: no update is lost', async () => {
  const { run, store } = fresh();
  await putTree(store);
  const results = await Promise.all([runChild([run, 'increment', '50']), runChild([run, 'increment', '50'])]);
  for (const r of results) assert.is(r.code, 0, r.stderr);
  const doc = await store.get({ kind: 'Container', path: ['r1', 's1', 't1', 'c1', 'web'] });
  assert.is(doc?.status?.restartCount, 100);
  assert.equal(doc?.spec, container().spec, 'the rest of the document is intact');
});

test('a writer killed between fsync and rename leaves the old version, and the next write succeeds and removes its temp', async () => {
  const { run, store } = fresh();
  await store.put(realm('r1', '1'));
  const r = await runChild([run, 'put-realm', '2'], { ...process.env, KUKEON_FAILPOINTS: 'store.before-rename=kill' });
  assert.is(r.signal, 'SIGKILL', `child exit ${r.code} ${r.stderr}`);
  const leftovers = fs.readdirSync(path.join(run, 'r1')).filter((f) => f.startsWith('.realm.yaml.tmp-'));
  assert.is(leftovers.length, 1, 'the killed writer left its temp file');
  assert.match(fs.readFileSync(path.join(run, 'r1', leftovers[0]), 'utf8'), /version: "2"/);
  // It died holding the store lock: the next write has to recover that too.
  assert.ok(fs.existsSync(path.join(run, 'run', 'locks', 'store.lock')));

  assert.is((await store.get({ kind: 'Realm', path: ['r1'] }))?.metadata.labels?.version, '1');
  assert.equal(
    (await store.list('Realm', [])).map((d) => d.metadata.labels?.version),
    ['1'],
  );
  const started = Date.now();
  await store.put(realm('r1', '3'));
  // waited out, the lock would fail the put with KUKEON_E_BUSY after its 10 s
  assert.ok(Date.now() - started < 5000, `the dead holder was recovered, not waited out (${Date.now() - started} ms)`);
  assert.is((await store.get({ kind: 'Realm', path: ['r1'] }))?.metadata.labels?.version, '3');

  // the next write beside the dead writer's temp took it away: nothing is left for a cleaner
  assert.equal(fs.readdirSync(path.join(run, 'r1')), ['realm.yaml']);
  assert.equal(await cleanStrayTemps(run, { recursive: true }), []);
});

test('a write failing before rename (failpoint error) leaves the old version and no temp file', async () => {
  const { run, store } = fresh();
  await store.put(realm('r1', '1'));
  process.env.KUKEON_FAILPOINTS = 'store.before-rename=error';
  try {
    await rejectsWith(store.put(realm('r1', '2')), 'KUKEON_E_INTERNAL');
  } finally {
    delete process.env.KUKEON_FAILPOINTS;
  }
  assert.equal(fs.readdirSync(path.join(run, 'r1')), ['realm.yaml']);
  assert.is((await store.get({ kind: 'Realm', path: ['r1'] }))?.metadata.labels?.version, '1');
  await store.put(realm('r1', '2'));
  assert.is((await store.get({ kind: 'Realm', path: ['r1'] }))?.metadata.labels?.version, '2');
});

test('cleanStrayTemps keeps temps of running processes', async () => {
  const { run, store } = fresh();
  await store.put(realm());
  const mine = path.join(run, 'r1', `.realm.yaml.tmp-${process.pid}-abc123`);
  fs.writeFileSync(mine, 'in flight');
  assert.equal(await cleanStrayTemps(run, { recursive: true }), []);
  assert.ok(fs.existsSync(mine));
});

test('plugin: provides store and store.diagnose; diagnose reports the run path and cleans temps', async () => {
  const run = path.join(tmp, `run${++n}`);
  const provided: Record<string, unknown> = {};
  const host = {
    paths: { runPath: run, runtimeDir: path.join(run, 'run') },
    locks: new FileLocks(path.join(run, 'run', 'locks')),
    services: { provide: (name: string, s: unknown) => (provided[name] = s) },
  } as unknown as PluginHost;
  assert.is(storeYaml.name, 'store-yaml');
  assert.is(storeYaml.slot, 'store');
  assert.match(storeYaml.version, /^\d+\.\d+\.\d+/);
  await storeYaml.apply(host, {});
  const store = provided.store as StoreService;
  const diag = provided['store.diagnose'] as DiagnoseService;
  assert.ok(store && diag);
  const status = (ds: Diagnosis[], check: string) => ds.find((d) => d.check === check)?.status;

  let ds = await diag.diagnose();
  assert.is(status(ds, 'store.run-path'), 'warn');
  await store.put(realm());
  fs.writeFileSync(path.join(run, 'r1', '.realm.yaml.tmp-999999999-abc'), 'x');
  ds = await diag.diagnose();
  assert.is(status(ds, 'store.run-path'), 'ok');
  assert.match(ds.find((d) => d.check === 'store.stray-temps')!.detail, /removed 1/);
  assert.not.ok(fs.existsSync(path.join(run, 'r1', '.realm.yaml.tmp-999999999-abc')));

  const file = path.join(tmp, `file${++n}`);
  fs.writeFileSync(file, '');
  storeYaml.apply({ ...host, paths: { runPath: file, runtimeDir: '' } } as PluginHost, {});
  ds = await (provided['store.diagnose'] as DiagnoseService).diagnose();
  assert.is(status(ds, 'store.run-path'), 'error');
});

test('the read cache: writes of another process are seen by the next read, never a stale document', async () => {
  const { run, store } = fresh();
  await putTree(store);
  const gen = path.join(run, 'run', 'store.generation');
  assert.ok(fs.existsSync(gen), 'every write moves the generation file');
  const realmRef = { kind: 'Realm' as const, path: ['r1'] };
  const cellsOf = async () => (await store.list('Cell', ['r1', 's1', 't1'])).map((c) => c.metadata.name);
  // Fill the cache (twice: the second read is served from memory).
  for (let i = 0; i < 2; i++) {
    assert.is((await store.get(realmRef))?.metadata.labels?.version, '1');
    assert.equal(await cellsOf(), ['c1']);
  }
  let r = await runChild([run, 'put-realm', '7']);
  assert.is(r.code, 0, r.stderr);
  assert.is((await store.get(realmRef))?.metadata.labels?.version, '7');
  r = await runChild([run, 'put-cell', 'c0']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(await cellsOf(), ['c0', 'c1']);
  r = await runChild([run, 'increment', '3']);
  assert.is(r.code, 0, r.stderr);
  const web = { kind: 'Container' as const, path: ['r1', 's1', 't1', 'c1', 'web'] };
  assert.is((await store.get(web))?.status?.restartCount, 3);
  // Our own update reads the other process's latest value under the lock.
  await store.update(web, (d) => (d ? { ...d, status: { ...d.status, restartCount: (d.status?.restartCount ?? 0) + 1 } } : d));
  assert.is((await store.get(web))?.status?.restartCount, 4);
  r = await runChild([run, 'remove-cell', 'c1']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(await cellsOf(), ['c0']);
  assert.is(await store.get(web), undefined);
  assert.equal(await store.list('Container', ['r1', 's1', 't1', 'c1']), []);
});

test('the read cache: own writes are seen at once, and callers get copies they may change', async () => {
  const { store } = fresh();
  await putTree(store);
  const ref = { kind: 'Cell' as const, path: ['r1', 's1', 't1', 'c1'] };
  const a = (await store.get(ref))!;
  a.metadata.name = 'changed';
  a.spec.containers.push({ id: 'x', image: 'y' } as never);
  assert.equal(await store.get(ref), cell());
  const listed = await store.list('Cell', ['r1', 's1', 't1']);
  listed[0].metadata.labels = { mutated: 'yes' };
  assert.equal(await store.list('Cell', ['r1', 's1', 't1']), [cell()]);
  const doc = cell('c2');
  await store.put(doc);
  doc.metadata.labels = { after: 'put' };
  assert.equal(await store.get({ kind: 'Cell', path: ['r1', 's1', 't1', 'c2'] }), cell('c2'));
  assert.equal(
    (await store.list('Cell', ['r1', 's1', 't1'])).map((c) => c.metadata.name),
    ['c1', 'c2'],
  );
  await store.remove({ kind: 'Stack', path: ['r1', 's1', 't1'] });
  assert.equal(await store.list('Cell', ['r1', 's1', 't1']), []);
  assert.equal(await store.list('Stack', ['r1', 's1']), []);
  assert.is(await store.get(ref), undefined);
  assert.is(await store.get({ kind: 'Container', path: ['r1', 's1', 't1', 'c1', 'web'] }), undefined);
});

test("the read cache: a second in-process store on the same run path sees the first one's writes", async () => {
  const { run, store } = fresh();
  await putTree(store);
  const other = new YamlStore(run, new FileLocks(path.join(run, 'run', 'locks')));
  assert.equal((await other.list('Cell', ['r1', 's1', 't1'])).length, 1);
  await store.put(cell('c9'));
  assert.equal(
    (await other.list('Cell', ['r1', 's1', 't1'])).map((c) => c.metadata.name),
    ['c1', 'c9'],
  );
  await other.remove({ kind: 'Cell', path: ['r1', 's1', 't1', 'c1'] });
  assert.equal(
    (await store.list('Cell', ['r1', 's1', 't1'])).map((c) => c.metadata.name),
    ['c9'],
  );
});

test('revisions: every write gets the next one, by any store on the run path; a childless remove keeps a parent with children', async () => {
  const { run, store } = fresh();
  const other = new YamlStore(run, new FileLocks(path.join(run, 'run', 'locks')), { handEditRecheckMs: 0 });
  const first = await store.put(realm());
  const second = await other.put(realm('r2'));
  assert.is(second, first + 1, 'a second store on the same run path counts on');
  const s1: Ref = { kind: 'Space', path: ['r1', 's1'] };
  await putTree(store);
  const err = await store.remove({ kind: 'Realm', path: ['r1'] }, { childless: true }).catch((e: unknown) => e);
  assert.is((err as KukeonError).code, 'KUKEON_E_HAS_CHILDREN');
  assert.match((err as KukeonError).message, /space\(s\) \(s1\)/);
  assert.ok(await store.get(s1), 'nothing was removed');
  const removed = await store.remove({ kind: 'Stack', path: ['r1', 's1', 't1'] }, { childless: true }).catch((e: unknown) => e);
  assert.is((removed as KukeonError).code, 'KUKEON_E_HAS_CHILDREN', 'a stack with a cell is kept');
  const cellGone = await store.remove({ kind: 'Cell', path: ['r1', 's1', 't1', 'c1'] }, { childless: true });
  assert.ok(cellGone > second, 'a cell goes with its containers');
  await store.remove({ kind: 'Stack', path: ['r1', 's1', 't1'] }, { childless: true });
  await store.remove(s1, { childless: true });
  const last = await store.remove({ kind: 'Realm', path: ['r1'] }, { childless: true });
  assert.is(await store.get({ kind: 'Realm', path: ['r1'] }), undefined);
  assert.is(fs.statSync(path.join(run, 'run', 'store.generation')).size, last, 'the revision is the (sparse) file size');
});

test.run();
