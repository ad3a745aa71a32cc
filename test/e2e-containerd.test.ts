// End to end on a private containerd (started by the harness in its own network namespace): real cells, checked
// against containerd itself (gRPC), the YAML files and /proc.

import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { E2EHarness } from './e2e/harness';
import { idle } from './e2e/idle';
import { e2eSuite } from './e2e/requirements';
import { waitFor } from './helpers/wait-for';
import { buildBusyboxOciFile } from './helpers/busybox-oci';
import { ociSchemaDir, ociSpecValidator } from './helpers/oci-schema';

const IMAGE = 'docker.io/kukeon/busybox:test';
const NS = 'kukeon-main';
const SCOPE = ['--realm', 'main', '--space', 'blog', '--stack', 'wp'];

function cell(name: string, containers: string): string {
  return `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
${containers}`;
}

const sh = (id: string, script: string) => `    - { id: ${id}, image: "${IMAGE}", command: sh, args: ["-c", ${JSON.stringify(script)}] }\n`;

e2eSuite('containerd runtime', (test) => {
  let h: E2EHarness;
  let client: ContainerdClient;

  const kuke = async (args: string[], input?: string) => {
    const r = await h.kuke(args, { input, timeoutMs: 60_000 });
    return r;
  };
  const ok = async (args: string[], input?: string) => {
    const r = await kuke(args, input);
    assert.is(r.code, 0, `kuke ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const containerYaml = (cellName: string, id: string) =>
    YAML.parse(fs.readFileSync(path.join(h.runPath, 'main/blog/wp', cellName, 'containers', `${id}.yaml`), 'utf8'));
  const cellYaml = (cellName: string) => YAML.parse(fs.readFileSync(path.join(h.runPath, 'main/blog/wp', cellName, 'cell.yaml'), 'utf8'));
  const tasks = async () => Object.fromEntries((await client.tasks.list(NS)).map((t) => [t.id, t]));

  test.before(async () => {
    h = await E2EHarness.start();
    client = new ContainerdClient(h.socket);
    const archive = await buildBusyboxOciFile(h.tmp);
    await ok(['create', 'realm', 'main']);
    const out = await ok(['image', 'load', archive, '--realm', 'main']);
    assert.match(out, `loaded ${IMAGE}`);
  });

  test.after(async () => {
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('image ls shows the loaded image', async () => {
    assert.match(await ok(['image', 'ls', '--realm', 'main']), IMAGE);
  });

  test('a cell with two containers runs: an image-less pause root, shared network namespace, own PID namespaces, logs', async () => {
    await ok(['apply', '-f', '-'], cell('web', sh('a', `echo hello-from-a; ${idle()}`) + sh('b', `echo hello-from-b; ${idle()}`)));
    const st = cellYaml('web').status;
    assert.is(st.state, 'Ready');
    const rootPid: number = st.root.pid;
    // the root runs the host's catatonit, bind-mounted at /.kukeon/pause: the same file (device and inode)
    assert.is(fs.readlinkSync(`/proc/${rootPid}/exe`), '/.kukeon/pause');
    const exe = fs.statSync(`/proc/${rootPid}/exe`);
    const catatonit = fs.statSync('/usr/bin/catatonit');
    assert.equal([exe.dev, exe.ino], [catatonit.dev, catatonit.ino]);
    const root = await client.containers.get(NS, 'blog_wp_web_root');
    assert.is(root.image, '', 'the synthesized root needs no image');
    assert.is(root.snapshot_key, '');
    assert.is(root.labels['kukeon.io/role'], 'root');
    const a = containerYaml('web', 'a').status;
    const b = containerYaml('web', 'b').status;
    const netOf = (pid: number) => fs.readlinkSync(`/proc/${pid}/ns/net`);
    const pidNsOf = (pid: number) => fs.readlinkSync(`/proc/${pid}/ns/pid`);
    assert.is(netOf(a.pid), netOf(rootPid));
    assert.is(netOf(b.pid), netOf(rootPid));
    assert.is.not(pidNsOf(a.pid), pidNsOf(rootPid));
    assert.is.not(pidNsOf(a.pid), pidNsOf(b.pid));
    assert.is(fs.readlinkSync(`/proc/${a.pid}/ns/uts`), fs.readlinkSync(`/proc/${rootPid}/ns/uts`));
    const c = await client.containers.get(NS, 'blog_wp_web_a');
    assert.equal(
      ['realm', 'space', 'stack', 'cell', 'container', 'role'].map((k) => c.labels[`kukeon.io/${k}`]),
      ['main', 'blog', 'wp', 'web', 'a', 'workload'],
    );
    await waitFor('the log of a', () => fs.existsSync(a.logPath) && fs.readFileSync(a.logPath, 'utf8').includes('hello-from-a'));
    assert.match(await ok(['log', 'web', '--container', 'b', ...SCOPE]), 'hello-from-b');
    assert.is(a.logPath, path.join(h.runPath, 'main/blog/wp/web/logs/a.log'));
    // without --container, a cell with two workloads is an error that lists them
    const r = await kuke(['log', 'web', ...SCOPE]);
    assert.is(r.code, 2);
    assert.match(r.stderr, /a, b/);
    assert.match(await ok(['get', 'containers', '--cell', 'web', ...SCOPE, '-o', 'wide']), /a\s+main\s+blog\s+wp\s+web\s+Ready/);
  });

  test('stop gives a container that traps SIGTERM its grace period and kills one that ignores it; two such wait one grace together', async () => {
    const deaf = "trap '' TERM; while true; do sleep 0.1; done";
    await ok(
      ['apply', '-f', '-'],
      cell(
        'graceful',
        sh('polite', "trap 'echo got-term; exit 0' TERM; while true; do sleep 0.1; done") + sh('stubborn', deaf) + sh('stubborn2', deaf),
      ),
    );
    const started = Date.now();
    await ok(['stop', 'graceful', '--timeout', '3', ...SCOPE]);
    const took = Date.now() - started;
    const polite = containerYaml('graceful', 'polite').status;
    assert.is(polite.state, 'Stopped');
    assert.is(polite.exitCode, 0);
    assert.match(fs.readFileSync(polite.logPath, 'utf8'), 'got-term');
    for (const id of ['stubborn', 'stubborn2'])
      assert.is(containerYaml('graceful', id).status.exitCode, 137, `${id} (ignoring SIGTERM) was killed`);
    assert.ok(took >= 3000, `stop waited the grace period (${took} ms)`);
    // their grace periods ran side by side: both were killed together (one after another, 3 s and more apart)
    const killedAt = ['stubborn', 'stubborn2'].map((id) => Date.parse(containerYaml('graceful', id).status.finishTime));
    assert.ok(Math.abs(killedAt[0] - killedAt[1]) < 2000, `killed ${Math.abs(killedAt[0] - killedAt[1])} ms apart`);
    assert.is(cellYaml('graceful').status.state, 'Stopped');
    const t = await tasks();
    assert.not.ok(t.blog_wp_graceful_polite || t.blog_wp_graceful_root, 'tasks are removed');
    await client.containers.get(NS, 'blog_wp_graceful_polite'); // the record is kept
    assert.ok(await client.snapshots.tryStat(NS, 'overlayfs', 'blog_wp_graceful_polite'), 'the snapshot is kept');
  });

  test('start, restart and kill', async () => {
    await ok(['start', 'graceful', ...SCOPE]);
    const first = containerYaml('graceful', 'polite').status.pid;
    assert.is(cellYaml('graceful').status.state, 'Ready');
    assert.ok(fs.existsSync(`/proc/${first}`));
    await ok(['restart', 'graceful', '--timeout', '1', ...SCOPE]);
    const second = containerYaml('graceful', 'polite').status.pid;
    assert.is.not(second, first);
    assert.is((await tasks()).blog_wp_graceful_polite.status, 'RUNNING');
    await ok(['kill', 'graceful', ...SCOPE]);
    // polite exits 0 on SIGTERM: 137 proves kill sent SIGKILL straight away
    assert.is(containerYaml('graceful', 'stubborn').status.exitCode, 137);
    assert.is(containerYaml('graceful', 'polite').status.exitCode, 137);
    assert.is(cellYaml('graceful').status.state, 'Stopped');
  });

  test('every spec kukeon generated validates against the OCI runtime-spec schema', async () => {
    const dir = ociSchemaDir();
    if (!dir) {
      if (process.env.KUKEON_E2E === 'required')
        assert.unreachable("KUKEON_OCI_SCHEMA_DIR is not set (.ci/run extracts Debian's golang-github-opencontainers-specs-dev)");
      console.log('SKIP OCI schema check: KUKEON_OCI_SCHEMA_DIR is not set');
      return;
    }
    const validate = ociSpecValidator(dir);
    const containers = await client.containers.list(NS, ['labels."kukeon.io/realm"==main']);
    assert.ok(containers.length >= 5, `roots and workloads to check (${containers.length})`);
    for (const c of containers) {
      const spec = JSON.parse(Buffer.from(c.spec!.value as Uint8Array).toString('utf8'));
      assert.equal(validate(spec), [], `${c.id}: ${validate(spec).join('; ')}`);
      assert.ok(spec.process.oomScoreAdj >= 0);
      for (const r of spec.process.rlimits ?? []) assert.ok(r.hard <= 1048576 && r.soft <= r.hard);
    }
  });

  test('a non-zero exit is reported; foreground run exits with the workload exit code', async () => {
    await ok(['apply', '-f', '-'], cell('quitter', sh('q', 'echo bye; exit 3')));
    await waitFor('q to exit', async () => (await tasks()).blog_wp_quitter_q?.status === 'STOPPED');
    const got = YAML.parse(await ok(['get', 'container', 'q', '--cell', 'quitter', ...SCOPE, '-o', 'yaml']));
    assert.is(got.status.state, 'Exited');
    assert.is(got.status.exitCode, 3);
    const r = await kuke(['run', 'oneshot', ...SCOPE, '--image', IMAGE, '--rm', '--command', 'sh', '--', '-c', 'echo from-run; exit 7']);
    assert.is(r.code, 7, r.stderr);
    assert.match(r.stdout, 'from-run');
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main/blog/wp/oneshot')), '--rm deleted the cell');
  });

  test('applying a changed args recreates that container only', async () => {
    const before = containerYaml('web', 'b').status.pid;
    const aBefore = containerYaml('web', 'a').status.pid;
    const out = await ok(
      ['apply', '-f', '-'],
      cell('web', sh('a', `echo hello-from-a; ${idle(301)}`) + sh('b', `echo hello-from-b; ${idle()}`)),
    );
    assert.match(out, 'cell/main/blog/wp/web updated');
    const aAfter = containerYaml('web', 'a').status.pid;
    assert.is.not(aAfter, aBefore);
    assert.match(fs.readFileSync(`/proc/${aAfter}/cmdline`, 'utf8'), 'sleep 301 &');
    assert.is(containerYaml('web', 'b').status.pid, before, 'the other container is untouched');
    assert.ok(fs.existsSync(`/proc/${before}`));
  });

  test('delete cell leaves no container, task or snapshot of the cell', async () => {
    await ok(['delete', 'cell', 'web', ...SCOPE]);
    const left = await client.containers.list(NS, ['labels."kukeon.io/cell"==web']);
    assert.equal(left, []);
    const t = await tasks();
    assert.not.ok(Object.keys(t).some((id) => id.startsWith('blog_wp_web_')));
    const snaps = await client.snapshots.list(NS, 'overlayfs');
    assert.not.ok(snaps.some((s) => s.name.startsWith('blog_wp_web_')));
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main/blog/wp/web')));
    assert.ok(
      (await client.images.list(NS)).some((i) => i.name === IMAGE),
      'image layers stay',
    );
  });

  test('purge kills without a grace period: a workload that ignores SIGTERM goes at once', async () => {
    await ok(['apply', '-f', '-'], cell('deaf', sh('deaf', "trap '' TERM; while true; do sleep 0.1; done")));
    const pid = containerYaml('deaf', 'deaf').status.pid;
    const started = Date.now();
    await ok(['purge', 'cell', 'deaf', ...SCOPE]);
    const took = Date.now() - started;
    assert.ok(took < 10_000, `purge took ${took} ms: it waited out the 10 s stop timeout instead of killing`);
    let state = 'gone';
    try {
      state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'gone';
    } catch {
      // reaped
    }
    assert.ok(state === 'gone' || state === 'Z', `the workload is gone (state ${state})`);
    assert.not.ok((await tasks()).blog_wp_deaf_deaf, 'no task left');
  });

  test('purge removes a labelled orphan that no YAML knows', async () => {
    const labels = {
      'kukeon.io/realm': 'main',
      'kukeon.io/space': 'blog',
      'kukeon.io/stack': 'wp',
      'kukeon.io/cell': 'ghost',
      'kukeon.io/container': 'x',
      'kukeon.io/role': 'workload',
    };
    await client.containers.create(NS, { id: 'blog_wp_ghost_x', labels, spec: { ociVersion: '1.0.2' } });
    await ok(['purge', 'cell', 'ghost', ...SCOPE]);
    assert.equal(await client.containers.list(NS, ['labels."kukeon.io/cell"==ghost']), []);
    await ok(['purge', 'cell', 'ghost', ...SCOPE]); // again: nothing left, still fine
  });

  test('an image that cannot be resolved fails the apply clearly and writes no cell; --pull never leaves the cell Failed with the reason', async () => {
    const r = await kuke(['apply', '-f', '-'], cell('broken', '    - { id: x, image: "127.0.0.1:1/nope:latest" }\n'));
    assert.is(r.code, 1);
    assert.match(r.stderr, /127\.0\.0\.1:1\/nope:latest.*KUKEON_E_PULL/);
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main/blog/wp/broken')), 'the pull failed before anything of the cell was written');
    // with --pull never nothing is pulled: the cell is written and its create finds no image
    const never = await kuke(
      ['apply', '-f', '-', '--pull', 'never'],
      cell('broken', '    - { id: x, image: "127.0.0.1:1/nope:latest" }\n'),
    );
    assert.is(never.code, 1);
    const st = cellYaml('broken').status;
    assert.is(st.state, 'Failed');
    assert.match(st.message, /127\.0\.0\.1:1\/nope:latest/);
    await ok(['delete', 'cell', 'broken', ...SCOPE]);
  });

  test('log -f follows until the container exits; image load reads stdin; run -d returns at once; refresh writes status', async () => {
    const followed = await ok([
      'run',
      'ticker',
      ...SCOPE,
      '--image',
      IMAGE,
      '-d',
      '--command',
      'sh',
      '--',
      '-c',
      'for i in 1 2 3; do echo tick-$i; sleep 0.3; done',
    ]);
    assert.match(followed, 'cell/main/blog/wp/ticker started');
    const out = await ok(['log', 'ticker', '-f', ...SCOPE]);
    assert.match(out, /tick-1\ntick-2\ntick-3/);
    assert.is(cellYaml('ticker').status.state, 'Ready', 'get never writes: the saved state is still Ready');
    const refreshed = await ok(['refresh']);
    assert.match(refreshed, /Updated [1-9]/);
    assert.is(containerYaml('ticker', 'ticker').status.state, 'Exited');
    assert.is(containerYaml('ticker', 'ticker').status.exitCode, 0);
    const archive = fs.readFileSync(await buildBusyboxOciFile(h.tmp));
    assert.match(await ok(['image', 'load', '-', '--realm', 'main'], archive as unknown as string), `loaded ${IMAGE}`);
    await ok(['delete', 'cell', 'ticker', ...SCOPE]);
  });

  test('purge of a realm on a shared namespace removes only what kukeon made there', async () => {
    await client.namespaces.create('shared-ns', {});
    await client.containers.create('shared-ns', { id: 'not-ours', labels: { app: 'other' }, spec: { ociVersion: '1.0.2' } });
    await ok(['apply', '-f', '-'], 'kind: Realm\nmetadata: { name: guest }\nspec: { namespace: shared-ns }\n');
    await ok(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'guest']);
    await ok(['purge', 'realm', 'guest', '--cascade']);
    assert.equal(
      (await client.containers.list('shared-ns')).map((c) => c.id),
      ['not-ours'],
    );
    assert.equal(await client.images.list('shared-ns', ['labels."kukeon.io/realm"==guest']), []);
    assert.ok(
      (await client.namespaces.list()).some((n) => n.name === 'shared-ns'),
      'a namespace kukeon did not create stays',
    );
    await client.containers.delete('shared-ns', 'not-ours');
    await client.namespaces.delete('shared-ns').catch(() => undefined);
  });

  test('containerd unreachable: a missing socket skips the plugin; a dead one fails commands with a clear message', async () => {
    const missing = path.join(h.tmp, 'missing.sock');
    const cfg = path.join(h.tmp, 'unreachable.yaml');
    fs.writeFileSync(cfg, `plugins:\n  store-yaml: {}\n  containerd: { socket: ${missing} }\n`);
    const env = { KUKEON_CONFIG: cfg, KUKEON_CONTAINERD_SOCKET: missing };
    const ls = await h.kuke(['plugins', 'ls'], { env });
    assert.match(ls.stdout, new RegExp(`containerd\\s+0\\.1\\.0\\s+runtime\\s+skip\\s+containerd socket ${missing} not found`));
    const start = await h.kuke(['start', 'graceful', ...SCOPE], { env });
    assert.is(start.code, 1);
    assert.match(start.stderr, 'KUKEON_E_NO_RUNTIME');
    // a socket file nobody listens on
    const dead = path.join(h.tmp, 'dead.sock');
    const child = await h.exec(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(dead)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    assert.ok(fs.existsSync(dead), `stale socket left behind (${child.code})`);
    const r = await h.kuke(['image', 'ls', '--realm', 'main'], { env: { KUKEON_CONFIG: cfg, KUKEON_CONTAINERD_SOCKET: dead } });
    assert.is(r.code, 1);
    assert.match(r.stderr, `containerd at ${dead} is unreachable`);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  });

  test('delete realm --cascade removes kukeon containers; purge realm removes its images and the namespace', async () => {
    await ok(['delete', 'realm', 'main', '--cascade']);
    assert.equal(await client.containers.list(NS, ['labels."kukeon.io/realm"==main']), []);
    assert.ok(
      (await client.namespaces.list()).some((n) => n.name === NS),
      'delete keeps images and the namespace',
    );
    await ok(['purge', 'realm', 'main', '--cascade']);
    assert.not.ok(
      (await client.namespaces.list()).some((n) => n.name === NS),
      'purge removed the namespace kukeon created',
    );
  });
});
