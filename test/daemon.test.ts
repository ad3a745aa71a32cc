// kukeond on a store-only host, as real processes: routing and the daemon-down error, the socket's modes and
// owner, stale and live sockets, a request that fails alone, a thin client, parity of output and state with
// in-process runs, and 100 concurrent clients. e2e-daemon.test.ts does the same on a private containerd.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { SocketClient } from '../plugins/api-socket/client';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { KUKE_BIN, REPO_ROOT, STORE_ONLY_CONFIG, kukeAsync, listTree } from './helpers/kuke';
import { tmpDir } from './helpers/tmp';
import { waitFor } from './helpers/wait-for';

const QUICKSTART = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'quickstart.yaml'), 'utf8');

interface Setup {
  dir: string;
  socket: string;
  runPath: string;
  config: string;
  daemon: Daemon;
  /** kuke through this daemon. */
  viaDaemon(args: string[], input?: string): ReturnType<typeof kukeAsync>;
}

async function setup(config = STORE_ONLY_CONFIG): Promise<Setup> {
  const dir = tmpDir('kukeon-daemon-');
  const socket = path.join(dir, 'sock', 'kukeond.sock');
  const runPath = path.join(dir, 'state');
  const cfg = path.join(dir, 'kukeon.yaml');
  fs.writeFileSync(cfg, config);
  const daemon = await startDaemon({ socket, runPath, config: cfg });
  return {
    dir,
    socket,
    runPath,
    config: cfg,
    daemon,
    viaDaemon: (args, input) => kukeAsync(args, { input, env: { KUKEON_SOCKET: socket } }),
  };
}

const VERBS: string[][] = [
  ['apply', '-f', '-'],
  ['get', 'cells'],
  ['get', 'realms', '-A'],
  ['describe', 'cell', 'c1'],
  ['create', 'realm', 'r1'],
  ['create', 'cell', 'c1', '--image', 'busybox'],
  ['delete', 'realm', 'r1'],
  ['purge', 'realm', 'r1'],
  ['start', 'c1'],
  ['stop', 'c1'],
  ['kill', 'c1'],
  ['restart', 'c1'],
  ['refresh'],
  ['run', 'c1', '--image', 'busybox'],
  ['log', 'c1'],
  ['image', 'ls'],
  ['image', 'load', '-'],
  ['image', 'pull', 'busybox'],
  ['image', 'rm', 'busybox'],
  ['image', 'prune'],
  ['exec', 'c1', '--', 'true'],
  ['exec', '-i', 'c1', '--', 'cat'],
];

test('daemon down: every verb exits 1 within 2 s with KUKEON_E_DAEMON naming the socket and the remedies (no fallback)', async () => {
  const dir = tmpDir('kukeon-daemon-down-');
  const missing = path.join(dir, 'nowhere', 'kukeond.sock');
  // a stale socket: bound by a process that was then killed, so nothing accepts
  const stale = path.join(dir, 'stale.sock');
  spawnSync(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  assert.ok(fs.existsSync(stale), 'the stale socket file exists');
  for (const socket of [missing, stale]) {
    const runs = await Promise.all(
      VERBS.map(async (args) => {
        const started = Date.now();
        const r = await kukeAsync(args, { env: { KUKEON_SOCKET: socket, KUKEON_CONFIG: path.join(dir, 'none.yaml') }, input: 'x' });
        return { args, r, ms: Date.now() - started };
      }),
    );
    for (const { args, r, ms } of runs) {
      const what = `kuke ${args.join(' ')} (${socket === stale ? 'stale' : 'missing'} socket)`;
      assert.is(r.code, 1, `${what}: exit ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, 'KUKEON_E_DAEMON', what);
      assert.match(r.stderr, socket, `${what} names the socket`);
      assert.match(r.stderr, '--no-daemon', `${what} names the remedies`);
      assert.match(r.stderr, 'kuke init', `${what} names the remedies`);
      // the failure is the socket's own (missing, refused), not the connect timeout waited out
      assert.match(r.stderr, socket === stale ? 'kukeond is not running' : 'no kukeond socket', what);
      // spawned side by side on 2 cores (in a niced test lane), each still answers: a bound against hanging
      assert.ok(ms < 2000 * 8, `${what} took ${ms} ms`);
    }
  }
  // alone, one verb: within 2 s beyond what starting kuke costs on this machine now (kuke version, which needs no
  // daemon, measured just before: the test lane may be niced on a loaded machine)
  const t0 = Date.now();
  assert.is((await kukeAsync(['version'], { env: { KUKEON_SOCKET: missing } })).code, 0);
  const start = Date.now() - t0;
  const started = Date.now();
  const one = await kukeAsync(['get', 'cells'], { env: { KUKEON_SOCKET: missing } });
  assert.is(one.code, 1);
  assert.match(one.stderr, 'no kukeond socket');
  const took = Date.now() - started;
  assert.ok(took - start < 2000, `took ${took} ms (kuke version: ${start} ms)`);
  assert.equal(fs.readdirSync(dir).sort(), ['stale.sock'], 'nothing was written (no in-process fallback)');
});

test('socket: directory 0700 and socket 0600 without the group; a live socket makes a second daemon exit 1; a stale one is replaced', async () => {
  const s = await setup(`${STORE_ONLY_CONFIG}  api-socket: { group: kukeon-no-such-group }\n`);
  try {
    const dirStat = fs.statSync(path.dirname(s.socket));
    const sockStat = fs.statSync(s.socket);
    assert.is(dirStat.mode & 0o7777, 0o700, 'socket dir mode');
    assert.ok(sockStat.isSocket());
    assert.is(sockStat.mode & 0o777, 0o600, 'socket mode');
    assert.is(fs.readFileSync(path.join(path.dirname(s.socket), 'kukeond.pid'), 'utf8').trim(), String(s.daemon.pid), 'pid file');

    const second = spawnSync(
      process.execPath,
      [path.join(REPO_ROOT, 'bin', 'kukeond.js'), '--socket', s.socket, '--run-path', s.runPath, '--config', s.config],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.is(second.status, 1, second.stderr);
    assert.match(second.stderr, 'another kukeond is serving');
    assert.is((await s.viaDaemon(['get', 'realms'])).code, 0, 'the first daemon is untouched');
    assert.is(fs.readFileSync(path.join(path.dirname(s.socket), 'kukeond.pid'), 'utf8').trim(), String(s.daemon.pid));

    // a crash leaves the socket file behind; the next daemon replaces it
    await s.daemon.kill();
    assert.ok(fs.existsSync(s.socket), 'a killed daemon leaves its socket');
    const next = await startDaemon({ socket: s.socket, runPath: s.runPath, config: s.config });
    assert.is((await s.viaDaemon(['get', 'realms'])).code, 0);
    const stopped = await next.stop();
    assert.is(stopped.code, 0, `SIGTERM exits 0: ${next.stderr()}`);
    assert.not.ok(fs.existsSync(s.socket), 'a clean exit removes the socket');
    assert.not.ok(fs.existsSync(path.join(path.dirname(s.socket), 'kukeond.pid')), 'and the pid file');
  } finally {
    await s.daemon.kill();
  }
});

test('socket with its group: 2750 root:<group> and 0660; a uid outside the group is refused and told which group to join', async () => {
  if (process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/setpriv')) {
    console.log('SKIP socket group test: needs root and setpriv');
    return;
  }
  // `daemon` (gid 1) exists on every Debian system: it stands in for the kukeon group
  const s = await setup(`${STORE_ONLY_CONFIG}  api-socket: { group: daemon }\n`);
  try {
    assert.is(fs.statSync(path.dirname(s.socket)).mode & 0o7777, 0o2750, 'socket dir 2750');
    assert.is(fs.statSync(path.dirname(s.socket)).gid, 1);
    assert.is(fs.statSync(s.socket).mode & 0o777, 0o660, 'socket 0660');
    assert.is(fs.statSync(s.socket).gid, 1);
    fs.chmodSync(s.dir, 0o755); // the temp dir itself must be traversable for the test's own unprivileged runs
    const as = (groups: string) =>
      spawnSync(
        '/usr/bin/setpriv',
        ['--reuid=65534', '--regid=65534', groups, process.execPath, KUKE_BIN, 'get', 'realms', '--socket', s.socket],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: '/nonexistent' },
          timeout: 20_000,
        },
      );
    const outsider = as('--clear-groups');
    assert.is(outsider.status, 1, outsider.stderr);
    assert.match(outsider.stderr, 'KUKEON_E_DAEMON');
    assert.match(outsider.stderr, 'permission denied');
    assert.match(outsider.stderr, 'join the group daemon');
    const member = as('--groups=1');
    assert.is(member.status, 0, `a member of the group is served: ${member.stderr}`);
  } finally {
    await s.daemon.kill();
  }
});

/** Each file under the run path (kukeon's run/ left out) with its content; directories as 'dir'. */
function contents(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of listTree(root)) out[rel] = rel.endsWith('/') ? 'dir' : fs.readFileSync(path.join(root, rel), 'utf8');
  return out;
}

/** The run path's files with times and ids taken out of status, for comparing two runs. */
function normalizedTree(root: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [file, text] of Object.entries(contents(root))) {
    if (!file.endsWith('.yaml')) {
      out[file] = text;
      continue;
    }
    const doc = YAML.parse(text) as { spec?: unknown; status?: Record<string, unknown> };
    const status = { ...(doc.status ?? {}) };
    for (const k of ['createdAt', 'updatedAt', 'startedAt', 'finishedAt', 'pid']) delete status[k];
    out[file] = { ...doc, status };
  }
  return out;
}

/** A spec part's bytes: the YAML file without its status block. */
function specParts(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, text] of Object.entries(contents(root))) out[file] = text.split(/^status:/m)[0];
  return out;
}

test('parity (store only): the same commands in-process and through the daemon give the same output, exit codes and files', async () => {
  const s = await setup();
  const local = path.join(s.dir, 'local');
  try {
    const bad =
      'apiVersion: v1beta1\nkind: Cell\nmetadata: { name: Bad_Name }\nspec: { realmId: demo, spaceId: web, stackId: shop, containers: [] }\n';
    const steps: { args: string[]; input?: string }[] = [
      { args: ['apply', '-f', '-'], input: QUICKSTART },
      { args: ['apply', '-f', '-'], input: QUICKSTART },
      { args: ['get', 'cells', '--realm', 'demo', '--space', 'web', '--stack', 'shop'] },
      { args: ['get', 'cells', '-A'] },
      { args: ['get', 'cell', 'frontend', '--realm', 'demo', '--space', 'web', '--stack', 'shop', '-o', 'json'] },
      { args: ['get', 'cell', 'nope', '--realm', 'demo', '--space', 'web', '--stack', 'shop'] },
      { args: ['apply', '-f', '-'], input: bad },
      { args: ['apply', '-f', '-'], input: 'kind: [' },
      { args: ['create', 'realm', 'other'] },
      { args: ['create', 'space', 'x', '--realm', 'missing'] },
      { args: ['delete', 'realm', 'demo'] },
      { args: ['delete', 'cell', 'worker', '--realm', 'demo', '--space', 'web', '--stack', 'shop'] },
      { args: ['start', 'frontend', '--realm', 'demo', '--space', 'web', '--stack', 'shop'] },
      { args: ['get', 'realms', '-o', 'yaml'] },
      { args: ['purge', 'realm', 'other'] },
      { args: ['delete', 'realm', 'demo', '--cascade'] },
      { args: ['get', 'realms'] },
    ];
    // times and the AGE column differ between two runs a moment apart
    const scrub = (t: string) =>
      t
        .replace(/"(createdAt|updatedAt)": "[^"]+"/g, '"$1": "T"')
        .replace(/(createdAt|updatedAt): \S+/g, '$1: T')
        .replace(/\b\d+s\b/g, 'AGE');
    for (const step of steps) {
      const a = await kukeAsync([...step.args, '--run-path', local, '--config', s.config], { input: step.input });
      const b = await s.viaDaemon(step.args, step.input);
      const what = `kuke ${step.args.join(' ')}`;
      assert.is(b.code, a.code, `${what}: exit codes (daemon stderr: ${b.stderr})`);
      assert.is(scrub(b.stdout), scrub(a.stdout), `${what}: stdout`);
      assert.is(b.stderr, a.stderr, `${what}: stderr`);
      assert.equal(specParts(s.runPath), specParts(local), `${what}: spec parts byte-identical`);
      assert.equal(normalizedTree(s.runPath), normalizedTree(local), `${what}: files (status without times and ids)`);
    }
  } finally {
    await s.daemon.kill();
  }
});

test('kuke events and get -w stream changes made through the daemon, in order; Ctrl-C ends them with 0', async () => {
  const s = await setup();
  try {
    const env = { ...process.env, KUKEON_SOCKET: s.socket, KUKEON_NO_DAEMON: '' };
    const watch = (args: string[]) => {
      const child = spawn(process.execPath, [KUKE_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      return { child, out: () => out, err: () => err, exited };
    };
    const started = Date.now();
    const events = watch(['events', '-o', 'json', '--realm', 'demo']);
    const cells = watch(['get', 'cells', '-w', '--realm', 'demo', '--space', 'web', '--stack', 'shop']);
    // get -w subscribes before it lists, so its empty list means its watch is on; kuke events, started first, says
    // nothing until an event: it gets at least as long (a niced test lane can take seconds to start a Node)
    await waitFor('get -w to list', () => cells.err().includes('No cells found'), 30_000);
    await new Promise((r) => setTimeout(r, Math.max(500, 1500 - (Date.now() - started))));
    assert.is((await s.viaDaemon(['apply', '-f', '-'], QUICKSTART)).code, 0);
    assert.is((await s.viaDaemon(['delete', 'cell', 'worker', '--realm', 'demo', '--space', 'web', '--stack', 'shop'])).code, 0);
    await waitFor('the delete to be seen', () => events.out().includes('"DELETED"') && cells.out().includes('Deleted'));
    events.child.kill('SIGINT');
    cells.child.kill('SIGINT');
    assert.is(await events.exited, 0, 'Ctrl-C ends kuke events with 0');
    assert.is(await cells.exited, 0, 'and get -w');
    const seen = events
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; ref: { kind: string; path: string[] } });
    const of = (kind: string, name: string) => seen.filter((e) => e.ref.kind === kind && e.ref.path.at(-1) === name).map((e) => e.type);
    assert.equal(of('Realm', 'demo'), ['ADDED', 'MODIFIED'], 'the realm is written Pending, then Ready');
    assert.equal(of('Cell', 'worker'), ['ADDED', 'DELETED']);
    assert.ok(
      seen.every((e) => e.ref.path[0] === 'demo'),
      '--realm scopes the stream',
    );
    assert.match(cells.out(), /^frontend\s+demo\s+web\s+shop\s+Pending/m);
    assert.match(cells.out(), /^worker\s+Deleted/m);
    assert.not.match(cells.out(), /realm|space|stack/, 'get -w cells shows cells only');
    const inProcess = await kukeAsync(['events', '--no-daemon', '--run-path', s.runPath]);
    assert.is(inProcess.code, 2, 'events refuses in-process mode');
  } finally {
    await s.daemon.kill();
  }
});

test('describe through the daemon shows the events of the writes made through it: created, stopped, deleted', async () => {
  const s = await setup();
  const SHOP = ['--realm', 'demo', '--space', 'web', '--stack', 'shop'];
  try {
    assert.is((await s.viaDaemon(['apply', '-f', '-'], QUICKSTART)).code, 0);
    const stop = await s.viaDaemon(['stop', 'frontend', ...SHOP]);
    assert.is(stop.code, 0, stop.stderr);
    // a write the daemon did not make (an in-process kuke on the same run path) is not in its history
    const local = await kukeAsync(['stop', 'worker', ...SHOP, '--run-path', s.runPath, '--config', s.config]);
    assert.is(local.code, 0, local.stderr);

    const text = await s.viaDaemon(['describe', 'cell', 'frontend', ...SHOP]);
    assert.is(text.code, 0, text.stderr);
    const events = text.stdout.slice(text.stdout.indexOf('\nEvents:\n') + 1);
    const rows = events
      .split('\n')
      .slice(1)
      .filter((l) => l.trim())
      .map((l) => l.trim().split(/\s{2,}/));
    assert.equal(rows[0], ['AGE', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'], text.stdout);
    assert.equal(
      rows.slice(1).map((r) => r.slice(1)),
      [
        ['Normal', 'Created', 'cell', 'cell created'],
        ['Normal', 'Created', 'container/http', 'container created'],
        ['Normal', 'Stopped', 'cell', 'stopped'],
      ],
      text.stdout,
    );
    assert.match(text.stdout, /^State:\s+Stopped$/m);

    const json = JSON.parse((await s.viaDaemon(['describe', 'cell', 'worker', ...SHOP, '-o', 'json'])).stdout);
    assert.is(json.doc.status.state, 'Stopped', 'the document is read live from the store');
    assert.equal(
      json.events.filter((e: { ref: { kind: string } }) => e.ref.kind === 'Cell').map((e: { reason: string }) => e.reason),
      ['Created'],
      "the in-process stop is not in the daemon's history",
    );
    const realm = await s.viaDaemon(['describe', 'realm', 'demo']);
    assert.match(realm.stdout, /^ {2}\S+\s+Normal\s+Created\s+realm\s+realm created$/m, realm.stdout);

    assert.is((await s.viaDaemon(['delete', 'cell', 'frontend', ...SHOP])).code, 0);
    assert.is((await s.viaDaemon(['apply', '-f', '-'], QUICKSTART)).code, 0);
    const again = JSON.parse((await s.viaDaemon(['describe', 'cell', 'frontend', ...SHOP, '-o', 'json'])).stdout);
    assert.equal(
      again.events.filter((e: { ref: { kind: string } }) => e.ref.kind === 'Cell').map((e: { reason: string }) => e.reason),
      ['Created', 'Stopped', 'Deleted', 'Created'],
      'a cell deleted and made again keeps its history',
    );
  } finally {
    await s.daemon.kill();
  }
});

test('get through the daemon is never stale: writes by an in-process kuke on the same run path show at once', async () => {
  const s = await setup();
  try {
    assert.is((await s.viaDaemon(['apply', '-f', '-'], QUICKSTART)).code, 0);
    const scope = ['--realm', 'demo', '--space', 'web', '--stack', 'shop'];
    assert.match((await s.viaDaemon(['get', 'cells', ...scope])).stdout, /^worker\s/m, 'the daemon has read the tree');
    const local = (args: string[]) => kukeAsync([...args, '--run-path', s.runPath, '--config', s.config]);
    assert.is((await local(['delete', 'cell', 'worker', ...scope])).code, 0);
    assert.is((await local(['create', 'cell', 'late', '--image', 'busybox', ...scope])).code, 0);
    const got = (await s.viaDaemon(['get', 'cells', ...scope])).stdout;
    assert.not.match(got, /^worker\s/m, 'a cell deleted by another process is gone');
    assert.match(got, /^late\s/m, 'a cell created by another process is there');
  } finally {
    await s.daemon.kill();
  }
});

test('a daemon that dies under a stream is an error for its client, never a clean end', async () => {
  const s = await setup();
  const child = spawn(process.execPath, [KUKE_BIN, 'events'], {
    env: { ...process.env, KUKEON_SOCKET: s.socket, KUKEON_NO_DAEMON: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise((r) => setTimeout(r, 1500));
  await s.daemon.kill();
  assert.is(await exited, 1, `kuke events exits 1 when the daemon dies: ${stderr}`);
  assert.match(stderr, 'KUKEON_E_DAEMON');
});

test('kukeond never removes a file that is not a socket, nor binds in a directory others can write', async () => {
  const dir = tmpDir('kukeon-daemon-notsock-');
  const precious = path.join(dir, 'precious.yaml');
  fs.writeFileSync(precious, 'keep: me\n');
  const cfg = path.join(dir, 'kukeon.yaml');
  fs.writeFileSync(cfg, STORE_ONLY_CONFIG);
  const run = (socket: string) =>
    spawnSync(
      process.execPath,
      [path.join(REPO_ROOT, 'bin', 'kukeond.js'), '--socket', socket, '--run-path', path.join(dir, 'state'), '--config', cfg],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
  const notSocket = run(precious);
  assert.is(notSocket.status, 1, notSocket.stderr);
  assert.match(notSocket.stderr, 'is not a socket');
  assert.is(fs.readFileSync(precious, 'utf8'), 'keep: me\n', 'the file is untouched');
  const shared = path.join(dir, 'shared');
  fs.mkdirSync(shared, { mode: 0o777 });
  fs.chmodSync(shared, 0o777);
  const open = run(path.join(shared, 'k.sock'));
  assert.is(open.status, 1, open.stderr);
  assert.match(open.stderr, 'writable by no one else');
  assert.not.ok(fs.existsSync(path.join(shared, 'k.sock')));
});

test('kukeond refuses to start when the configured api plugin cannot serve', async () => {
  const dir = tmpDir('kukeon-daemon-noapi-');
  const plugin = path.join(dir, 'no-api.js');
  fs.writeFileSync(
    plugin,
    `const { definePlugin, PluginSkip } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'sdk'))});
module.exports = definePlugin({ name: 'no-api', version: '1.0.0', slot: 'api', apply() { throw new PluginSkip('not on this host'); } });\n`,
  );
  const cfg = path.join(dir, 'kukeon.yaml');
  fs.writeFileSync(cfg, `${STORE_ONLY_CONFIG}  ${plugin}: {}\n`);
  const socket = path.join(dir, 'sock', 'k.sock');
  const r = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, 'bin', 'kukeond.js'), '--socket', socket, '--run-path', path.join(dir, 'state'), '--config', cfg],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, 'cannot serve without an api plugin');
  assert.match(r.stderr, 'no-api is skip: not on this host');
  assert.not.ok(fs.existsSync(socket), 'nothing was bound');
});

test('one failing request fails alone (a throwing tap, a stray rejection); the daemon keeps serving', async () => {
  const dir = tmpDir('kukeon-daemon-fail-');
  const plugin = path.join(dir, 'boom.js');
  fs.writeFileSync(
    plugin,
    `const { definePlugin } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'sdk'))});
module.exports = definePlugin({ name: 'boom', version: '1.0.0', apply(host) {
  host.hooks.create.for('Realm').tapPromise('boom', async (ctx) => {
    if (ctx.ref.path[0] !== 'boom') return;
    Promise.reject(new Error('a stray rejection'));
    throw new Error('the tap throws');
  });
} });\n`,
  );
  const s = await setup(`${STORE_ONLY_CONFIG}  ${plugin}: {}\n`);
  try {
    const failed = await s.viaDaemon(['create', 'realm', 'boom']);
    assert.is(failed.code, 1);
    assert.match(failed.stderr, 'the tap throws');
    const ok = await s.viaDaemon(['create', 'realm', 'fine']);
    assert.is(ok.code, 0, ok.stderr);
    assert.match((await s.viaDaemon(['get', 'realms'])).stdout, /fine\s+Ready/);
    assert.match(s.daemon.stderr(), 'a stray rejection', 'the stray rejection is logged');
  } finally {
    await s.daemon.kill();
  }
});

test('the client path is thin: through the daemon, kuke loads no plugin, no ajv, tapable, yaml or grpc-js, and no protos', async () => {
  const s = await setup();
  try {
    const probe = `
const Module = require('module');
const seen = new Set();
const load = Module._load;
Module._load = function (request, parent, isMain) { const r = load.apply(this, arguments); try { seen.add(Module._resolveFilename(request, parent, isMain)); } catch {} return r; };
process.argv = [process.argv[0], ${JSON.stringify(KUKE_BIN)}, 'get', 'realms'];
require(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', 'cli', 'index.js'))}).main(['get', 'realms']).then((code) => {
  process.stdout.write(JSON.stringify({ code, modules: [...seen] }));
});`;
    const r = spawnSync(process.execPath, ['-e', probe], {
      encoding: 'utf8',
      env: { ...process.env, KUKEON_SOCKET: s.socket, KUKEON_NO_DAEMON: '' },
    });
    const { code, modules } = JSON.parse(r.stdout) as { code: number; modules: string[] };
    assert.is(code, 0, r.stderr);
    const rel = modules.map((m) => path.relative(REPO_ROOT, m));
    const forbidden = rel.filter((m) =>
      /(^|\/)(ajv|ajv-formats|tapable|yaml|@grpc\/grpc-js|@grpc\/proto-loader|protobufjs)\/|dist\/plugins\/(?!api-socket\/(client|wire|frame|h2-channel|socket-file))|dist\/src\/host\/(?!version|validation\/(names|input-limits))/.test(
        m,
      ),
    );
    assert.equal(forbidden, [], `the client loaded: ${forbidden.join(', ')}`);
    assert.ok(
      rel.some((m) => m.includes('api-socket/client')),
      'it used the socket client',
    );
  } finally {
    await s.daemon.kill();
  }
});

test('100 concurrent clients doing get and apply for 30 s: no error, no lost update, no stale read', async () => {
  const s = await setup();
  const seconds = Number(process.env.KUKEON_DAEMON_LOAD_SECONDS || 30);
  try {
    const admin = new SocketClient(s.socket);
    await admin.apply({ text: 'apiVersion: v1beta1\nkind: Stack\nmetadata: { name: t }\nspec: { realmId: load, spaceId: s }\n' });
    const cellDoc = (i: number, n: number) =>
      `apiVersion: v1beta1\nkind: Cell\nmetadata: { name: c${i}, labels: { n: "${n}" } }\nspec: { realmId: load, spaceId: s, stackId: t, containers: [{ id: w, image: busybox }] }\n`;
    const end = Date.now() + seconds * 1000;
    const errors: string[] = [];
    let ops = 0;
    const clients = Array.from({ length: 100 }, (_, i) => ({ i, client: new SocketClient(s.socket), last: 0 }));
    await Promise.all(
      clients.map(async (c) => {
        while (Date.now() < end) {
          try {
            const n = c.last + 1;
            const report = await c.client.apply({ text: cellDoc(c.i, n) });
            if (report.items.some((it) => it.action === 'failed')) throw new Error(JSON.stringify(report.items));
            c.last = n;
            // read your own write: never an older value
            const [doc] = await c.client.get({ kind: 'Cell', scope: ['load', 's', 't'], name: `c${c.i}` });
            if (doc.metadata.labels?.n !== String(n)) throw new Error(`c${c.i}: read n=${doc.metadata.labels?.n} after writing ${n}`);
            // a scoped get of everything sees every client's cell
            if (n === 1 || n % 5 === 0) await c.client.get({ kind: 'Cell', scope: ['load', 's', 't'] });
            ops += 2;
          } catch (err) {
            errors.push(`client ${c.i}: ${(err as Error).message}`);
            break;
          }
        }
      }),
    );
    assert.equal(errors.slice(0, 5), [], `${errors.length} client(s) failed`);
    const all = await admin.get({ kind: 'Cell', scope: ['load', 's', 't'] });
    for (const c of clients) {
      const doc = all.find((d) => d.metadata.name === `c${c.i}`);
      assert.is(doc?.metadata.labels?.n, String(c.last), `c${c.i}: the last update is kept`);
    }
    console.log(`# ${ops} operations by 100 clients in ${seconds} s (${Math.round(ops / seconds)}/s)`);
    for (const c of clients) c.client.close();
    admin.close();
  } finally {
    await s.daemon.kill();
  }
});

test.run();
