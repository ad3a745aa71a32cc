// `kuke status` without containerd: the parity rules on plain data, the report of a host whose runtime is a fake
// plugin (its diagnose findings and task list are the test's), and the CLI's output, --json and exit codes with
// the daemon down and up (a real kukeond on a store-only host). `kuke daemon` without a system cell.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CellDoc, ContainerDoc, Diagnosis, RuntimeTask } from '../sdk';
import { checkParity } from '../src/host/status/parity';
import { hostStatus } from '../src/host/status/host-status';
import { startDaemon } from './helpers/daemon';
import { fakePlugin, testHost } from './helpers/hosts';
import { STORE_ONLY_CONFIG, kukeAsync } from './helpers/kuke';
import { tmpDir } from './helpers/tmp';

const VERSION = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')).version as string;

function cell(name: string, state: string, rootId?: string): CellDoc {
  return {
    apiVersion: 'v1beta1',
    kind: 'Cell',
    metadata: { name },
    spec: { realmId: 'main', spaceId: 'blog', stackId: 'wp', containers: [] },
    status: { state: state as never, ...(rootId ? { root: { containerdId: rootId } } : {}) },
  } as CellDoc;
}

function container(cellName: string, id: string, state: string, containerdId?: string): ContainerDoc {
  return {
    apiVersion: 'v1beta1',
    kind: 'Container',
    metadata: { name: id },
    spec: { id, realmId: 'main', spaceId: 'blog', stackId: 'wp', cellId: cellName },
    status: { state: state as never, containerdId },
  } as ContainerDoc;
}

const task = (id: string, status: string | undefined, cellName?: string, c = 'w'): RuntimeTask => ({
  namespace: 'kukeon-main',
  id,
  status,
  ...(cellName ? { cellPath: ['main', 'blog', 'wp', cellName], container: c, role: c === 'root' ? 'root' : 'workload' } : {}),
});

const web = () => ({ cell: cell('web', 'Ready', 'blog_wp_web_root'), containers: [container('web', 'w', 'Ready', 'blog_wp_web_w')] });
const webTasks = () => [task('blog_wp_web_root', 'RUNNING', 'web', 'root'), task('blog_wp_web_w', 'RUNNING', 'web')];

test('parity: a Ready cell whose root and workload run, and a stopped cell with task-less containers, is one OK line', () => {
  const stopped = { cell: cell('db', 'Stopped', 'blog_wp_db_root'), containers: [container('db', 'pg', 'Stopped', 'blog_wp_db_pg')] };
  const lines = checkParity([web(), stopped], [...webTasks(), task('blog_wp_db_pg', undefined, 'db', 'pg')]);
  assert.equal(
    lines.map((l) => [l.status, l.detail]),
    [['OK', "1 Ready cell(s) have their 2 task(s); 2 task(s) in kukeon's namespaces all have their YAML"]],
  );
});

test("parity: a Ready cell whose root task is gone, or whose Ready workload's task is gone, FAILs naming the cell", () => {
  const rootGone = checkParity([web()], [task('blog_wp_web_w', 'RUNNING', 'web')]);
  assert.equal(
    rootGone.map((l) => [l.status, l.check]),
    [['FAIL', 'cell/main/blog/wp/web']],
  );
  assert.match(rootGone[0].detail, 'its root task blog_wp_web_root is gone');
  const rootStopped = checkParity([web()], [task('blog_wp_web_root', 'STOPPED', 'web', 'root'), task('blog_wp_web_w', 'RUNNING', 'web')]);
  assert.match(rootStopped[0].detail, 'is stopped');
  const workloadGone = checkParity([web()], [task('blog_wp_web_root', 'RUNNING', 'web', 'root')]);
  assert.equal(workloadGone.length, 1);
  assert.is(workloadGone[0].status, 'FAIL');
  assert.match(workloadGone[0].detail, 'the task of its container w (blog_wp_web_w) is gone');
  assert.ok(workloadGone[0].remedy);
});

test('parity: a workload that exited while its YAML says Ready is a WARN, not a FAIL', () => {
  const lines = checkParity([web()], [task('blog_wp_web_root', 'RUNNING', 'web', 'root'), task('blog_wp_web_w', 'STOPPED', 'web')]);
  assert.equal(
    lines.map((l) => l.status),
    ['OK', 'WARN'],
  );
  assert.match(lines[1].detail, 'container w of cell/main/blog/wp/web has exited');
});

test('parity: a task without kukeon labels, and a task whose cell or container has no YAML, FAIL as strays', () => {
  const lines = checkParity(
    [web()],
    [
      ...webTasks(),
      task('someone-elses', 'RUNNING'),
      task('blog_wp_gone_w', 'RUNNING', 'gone'),
      task('blog_wp_web_extra', 'RUNNING', 'web', 'extra'),
    ],
  );
  assert.equal(
    lines.map((l) => [l.status, l.check]),
    [
      ['FAIL', 'task someone-elses in namespace kukeon-main'],
      ['FAIL', 'task blog_wp_gone_w in namespace kukeon-main'],
      ['FAIL', 'task blog_wp_web_extra in namespace kukeon-main'],
    ],
  );
  assert.match(lines[0].detail, 'has no kukeon labels');
  assert.match(lines[1].detail, 'belongs to cell/main/blog/wp/gone, which has no YAML');
  assert.match(lines[2].detail, 'belongs to container extra of cell/main/blog/wp/web, which has no YAML');
  assert.match(lines[1].remedy ?? '', 'kuke purge cell gone');
});

/** A host with store-yaml and a fake runtime plugin whose findings and tasks the test sets. */
async function fakeRuntimeHost(findings: Diagnosis[], tasks: RuntimeTask[]) {
  const runtime = fakePlugin('fake-runtime', 'runtime', (host) => {
    host.services.provide('runtime.diagnose', { diagnose: async () => findings });
    host.services.provide('runtime.tasks', { get: async () => undefined, list: async () => [], inventory: async () => tasks });
  });
  const host = await testHost([runtime]);
  const store = host.services.get('store')!;
  await store.put({ apiVersion: 'v1beta1', kind: 'Realm', metadata: { name: 'main' }, spec: {}, status: { state: 'Ready' } } as never);
  await store.put({
    apiVersion: 'v1beta1',
    kind: 'Space',
    metadata: { name: 'blog' },
    spec: { realmId: 'main' },
    status: { state: 'Ready' },
  } as never);
  await store.put({
    apiVersion: 'v1beta1',
    kind: 'Stack',
    metadata: { name: 'wp' },
    spec: { realmId: 'main', spaceId: 'blog' },
    status: { state: 'Ready' },
  } as never);
  const { cell: c, containers } = web();
  await store.put(c);
  for (const x of containers) await store.put(x);
  return host;
}

test('the report: daemon lines from the probe (a version mismatch WARNs), containerd from its diagnose service, parity from its task list', async () => {
  const host = await fakeRuntimeHost([{ check: 'containerd', status: 'ok', detail: '/x.sock: containerd 1.7' }], webTasks());
  try {
    const up = await hostStatus(host, { socket: '/s.sock', answered: true, version: VERSION, pid: 42, runPath: host.paths.runPath });
    const bySection = (s: string) => up.lines.filter((l) => l.section === s).map((l) => [l.status, l.check]);
    assert.equal(bySection('daemon'), [
      ['OK', 'ping'],
      ['OK', 'version'],
    ]);
    assert.equal(bySection('containerd'), [['OK', 'containerd']]);
    assert.equal(bySection('parity'), [['OK', 'tasks']]);
    // no cgroups or network plugin configured: said, as a warning
    assert.equal(bySection('cgroups'), [['WARN', 'plugin']]);
    assert.equal(bySection('cni'), [['WARN', 'plugin']]);
    assert.ok(up.ok, JSON.stringify(up.lines));

    const old = await hostStatus(host, { socket: '/s.sock', answered: true, version: '0.0.1', runPath: '/elsewhere' });
    const daemon = old.lines.filter((l) => l.section === 'daemon');
    assert.equal(
      daemon.map((l) => [l.status, l.check]),
      [
        ['OK', 'ping'],
        ['WARN', 'version'],
        ['WARN', 'run path'],
      ],
    );
    assert.is(daemon[1].detail, `client v${VERSION}, daemon v0.0.1`);
    assert.ok(old.ok, 'warnings alone do not fail');

    const down = await hostStatus(host, { socket: '/s.sock', answered: false, error: 'no kukeond socket at /s.sock' });
    assert.is(down.ok, false);
    assert.equal(
      down.lines.filter((l) => l.status === 'FAIL').map((l) => [l.section, l.check]),
      [['daemon', 'ping']],
    );
    assert.match(down.lines[0].remedy ?? '', 'kuke init');
  } finally {
    await host.close();
  }
});

test('the report: an unreachable containerd (its diagnose error) and a parity break are FAILs', async () => {
  const host = await fakeRuntimeHost(
    [{ check: 'containerd', status: 'error', detail: '/x.sock: connect ENOENT', remedy: 'start containerd' }],
    [task('blog_wp_web_w', 'RUNNING', 'web')],
  );
  try {
    const r = await hostStatus(host, { socket: '/s.sock', answered: true, version: VERSION });
    assert.is(r.ok, false);
    assert.equal(
      r.lines.filter((l) => l.status === 'FAIL').map((l) => [l.section, l.check]),
      [
        ['containerd', 'containerd'],
        ['parity', 'cell/main/blog/wp/web'],
      ],
    );
  } finally {
    await host.close();
  }
});

test('kuke status with the daemon down: a FAIL line for the ping, exit 1; --json is the same report', async () => {
  const dir = tmpDir('kukeon-status-');
  const config = path.join(dir, 'kukeon.yaml');
  fs.writeFileSync(config, STORE_ONLY_CONFIG);
  const env = { KUKEON_CONFIG: config, KUKEON_RUN_PATH: path.join(dir, 'state'), KUKEON_SOCKET: path.join(dir, 'none.sock') };
  const [text, json] = await Promise.all([kukeAsync(['status'], { env }), kukeAsync(['status', '--json'], { env })]);
  assert.is(text.code, 1, text.stderr);
  assert.match(text.stdout, /^STATUS\s+SECTION\s+CHECK\s+DETAIL$/m);
  assert.match(text.stdout, new RegExp(`^FAIL\\s+daemon\\s+ping\\s+kukeond does not answer on ${dir}/none.sock`, 'm'));
  assert.match(text.stdout, /^FAIL: \d+ ok, \d+ warn, \d+ fail$/m);
  assert.is(json.code, 1);
  const report = JSON.parse(json.stdout) as { ok: boolean; lines: { section: string; status: string; check: string }[] };
  assert.is(report.ok, false);
  assert.equal(report.lines[0], { ...report.lines[0], section: 'daemon', check: 'ping', status: 'FAIL' });
  // store-only: no runtime, so containerd FAILs and parity is not checked
  assert.equal(
    report.lines.filter((l) => l.section === 'containerd').map((l) => l.status),
    ['FAIL'],
  );
  assert.equal(
    report.lines.filter((l) => l.section === 'parity').map((l) => l.status),
    ['WARN'],
  );
  const rows = text.stdout.split('\n').filter((l) => /^(OK|WARN|FAIL)\s/.test(l));
  assert.is(rows.length, report.lines.length, 'one table row per line of the JSON report');
});

test('kuke status with a daemon up: the ping and version lines are OK', async () => {
  const dir = tmpDir('kukeon-status-');
  const config = path.join(dir, 'kukeon.yaml');
  fs.writeFileSync(config, STORE_ONLY_CONFIG);
  const socket = path.join(dir, 'sock', 'kukeond.sock');
  const runPath = path.join(dir, 'state');
  const daemon = await startDaemon({ socket, runPath, config });
  try {
    const r = await kukeAsync(['status', '--json'], { env: { KUKEON_CONFIG: config, KUKEON_RUN_PATH: runPath, KUKEON_SOCKET: socket } });
    const report = JSON.parse(r.stdout) as { lines: { section: string; status: string; check: string; detail: string }[] };
    const daemonLines = report.lines.filter((l) => l.section === 'daemon');
    assert.equal(
      daemonLines.map((l) => [l.status, l.check]),
      [
        ['OK', 'ping'],
        ['OK', 'version'],
      ],
    );
    assert.is(daemonLines[0].detail, `kukeond answers on ${socket} (pid ${daemon.pid})`);
  } finally {
    await daemon.stop();
  }
});

test('kuke daemon start|stop|restart|logs without a system cell: a clear error naming kuke init, exit 1', async () => {
  const dir = tmpDir('kukeon-daemon-cmd-');
  const config = path.join(dir, 'kukeon.yaml');
  fs.writeFileSync(config, STORE_ONLY_CONFIG);
  const env = { KUKEON_CONFIG: config, KUKEON_RUN_PATH: path.join(dir, 'state') };
  const runs = await Promise.all([['start'], ['stop'], ['restart'], ['logs']].map((a) => kukeAsync(['daemon', ...a], { env })));
  for (const r of runs) {
    assert.is(r.code, 1, r.stderr);
    assert.is(
      r.stderr,
      "Error: there is no system cell kukeon-system/kukeon/kukeon/kukeond (kukeond's): run kuke init first [KUKEON_E_NOT_FOUND]\n",
    );
  }
  assert.not.ok(fs.existsSync(path.join(dir, 'state', 'kukeon-system')), 'nothing was made');
});

test.run();
