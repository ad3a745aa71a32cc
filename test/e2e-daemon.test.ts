// kukeond on a private containerd, as real processes: the same lifecycle in-process and through the daemon leaves
// the same files and prints the same output; a SIGKILLed daemon leaves its cells running and a new one serves
// them; Ctrl-C on a client whose apply is pulling a slow image aborts the pull in the daemon and makes nothing.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { E2EHarness } from './e2e/harness';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { buildBusyboxOciFile } from './helpers/busybox-oci';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { KUKE_BIN, REPO_ROOT, listTree } from './helpers/kuke';
import { waitFor } from './helpers/wait-for';

const IMAGE = 'docker.io/kukeon/busybox:test';
const NS = 'kukeon-main';

const cell = (name: string, ids: string[]) => `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name}, labels: { app: ${name} } }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
${ids.map((id) => `    - { id: ${id}, image: "${IMAGE}", command: sh, args: ["-c", "echo ${id} up; exec sleep 600"] }\n`).join('')}`;

/** Files under a run path with status times, pids (and the netns path made of one) and the run path taken out; and each file's spec part, byte for byte. */
function tree(root: string): { specs: Record<string, string>; status: Record<string, unknown> } {
  const specs: Record<string, string> = {};
  const status: Record<string, unknown> = {};
  for (const rel of listTree(root)) {
    if (rel.endsWith('/') || !rel.endsWith('.yaml')) {
      specs[rel] = rel.endsWith('/') ? 'dir' : 'file';
      continue;
    }
    const text = fs.readFileSync(path.join(root, rel), 'utf8');
    specs[rel] = text.split(/^status:/m)[0];
    status[rel] = JSON.parse(
      JSON.stringify((YAML.parse(text) as { status?: unknown }).status ?? {}, (k, v) =>
        /^(createdAt|updatedAt|startedAt|startTime|finishedAt|finishTime|exitedAt|pid|netns)$/.test(k)
          ? undefined
          : typeof v === 'string'
            ? v.split(root).join('<run-path>')
            : v,
      ),
    );
  }
  return { specs, status };
}

const scrub = (t: string) =>
  t
    .replace(/\b\d+(s|m)\b/g, 'AGE')
    .replace(/(createdAt|updatedAt|startTime|finishTime|restartTime)("?):\s*"?[^",\n]+"?/g, '$1$2: T')
    .replace(/(pid)("?):\s*\d+/g, '$1$2: N');

e2eSuite('kukeond on containerd', (test) => {
  let h: E2EHarness;
  let client: ContainerdClient;
  let archive: string;
  let daemon: Daemon | undefined;
  const socket = () => path.join(h.tmp, 'd', 'kukeond.sock');
  const daemonRunPath = () => path.join(h.tmp, 'daemon-state');
  const viaDaemon = (args: string[], input?: string): Promise<RunResult> =>
    h.kuke(args, { input, timeoutMs: 120_000, env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() } });
  const inProcess = (args: string[], input?: string): Promise<RunResult> => h.kuke(args, { input, timeoutMs: 120_000 });
  const start = async () => {
    daemon = await startDaemon({ socket: socket(), runPath: daemonRunPath(), config: h.configFile });
    return daemon;
  };

  test.before(async () => {
    h = await E2EHarness.start({ name: 'daemon' });
    client = new ContainerdClient(h.socket);
    archive = await buildBusyboxOciFile(h.tmp);
  });

  test.after(async () => {
    await daemon?.kill();
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('parity: a lifecycle in-process and through the daemon leaves identical files, output and exit codes', async () => {
    await start();
    const steps: { args: string[]; input?: string }[] = [
      { args: ['create', 'realm', 'main'] },
      { args: ['image', 'load', archive, '--realm', 'main'] },
      { args: ['apply', '-f', '-'], input: `${cell('one', ['a'])}---\n${cell('two', ['a', 'b'])}` },
      { args: ['apply', '-f', '-'], input: cell('one', ['a']) },
      { args: ['get', 'cells', '--realm', 'main', '--space', 'blog', '--stack', 'wp'] },
      { args: ['get', 'containers', '-A'] },
      { args: ['stop', 'one', '--realm', 'main', '--space', 'blog', '--stack', 'wp', '--timeout', '0'] },
      { args: ['get', 'cell', 'one', '--realm', 'main', '--space', 'blog', '--stack', 'wp', '-o', 'yaml'] },
      { args: ['start', 'one', '--realm', 'main', '--space', 'blog', '--stack', 'wp'] },
      { args: ['log', 'two', '--container', 'b', '--realm', 'main', '--space', 'blog', '--stack', 'wp'] },
      { args: ['kill', 'two', '--realm', 'main', '--space', 'blog', '--stack', 'wp'] },
      { args: ['delete', 'cell', 'two', '--realm', 'main', '--space', 'blog', '--stack', 'wp'] },
      { args: ['apply', '-f', '-'], input: cell('Bad', ['a']) },
      { args: ['apply', '-f', '-'], input: cell('three', ['a']).replace(IMAGE, 'docker.io/kukeon/nope:1') },
      { args: ['delete', 'realm', 'main'] },
      { args: ['start', 'ghost', '--realm', 'main', '--space', 'blog', '--stack', 'wp'] },
      { args: ['purge', 'realm', 'main', '--cascade'] },
      { args: ['get', 'realms'] },
    ];
    const record = async (run: (args: string[], input?: string) => Promise<RunResult>, root: string) => {
      const out: { r: RunResult; t: ReturnType<typeof tree> }[] = [];
      for (const s of steps) {
        const args = s.input?.includes('nope') ? [...s.args, '--pull', 'never'] : s.args;
        out.push({ r: await run(args, s.input), t: tree(root) });
      }
      return out;
    };
    const local = await record(inProcess, h.runPath);
    const remote = await record(viaDaemon, daemonRunPath());
    steps.forEach((s, i) => {
      const what = `step ${i + 1}: kuke ${s.args.join(' ')}`;
      assert.is(remote[i].r.code, local[i].r.code, `${what}: exit code (daemon: ${remote[i].r.stderr}; in-process: ${local[i].r.stderr})`);
      assert.is(scrub(remote[i].r.stdout), scrub(local[i].r.stdout), `${what}: stdout`);
      assert.is(scrub(remote[i].r.stderr), scrub(local[i].r.stderr), `${what}: stderr`);
      assert.equal(remote[i].t.specs, local[i].t.specs, `${what}: spec parts`);
      assert.equal(remote[i].t.status, local[i].t.status, `${what}: status without times and ids`);
    });
    assert.match(local[2].r.stdout, 'cell/main/blog/wp/two created');
    assert.is(local[14].r.code, 1, 'delete of a realm with children fails');
  });

  test('through the daemon, run streams the workload output (log -f) and exits with its code (wait); --rm removes it', async () => {
    daemon ??= await start();
    await viaDaemon(['create', 'realm', 'main']);
    assert.is((await viaDaemon(['image', 'load', archive, '--realm', 'main'])).code, 0);
    const scope = ['--realm', 'main', '--space', 'blog', '--stack', 'wp'];
    const r = await viaDaemon([
      'run',
      'once',
      ...scope,
      '--image',
      IMAGE,
      '--rm',
      '--command',
      'sh',
      '--',
      '-c',
      'echo out-1; sleep 1; echo out-2; exit 3',
    ]);
    assert.is(r.code, 3, `the workload's exit code: ${r.stderr}`);
    assert.is(r.stdout, 'out-1\nout-2\n', 'its output, followed to the end');
    const gone = await viaDaemon(['get', 'cell', 'once', ...scope]);
    assert.is(gone.code, 1, '--rm removed the cell');
    assert.is((await viaDaemon(['purge', 'realm', 'main', '--cascade'])).code, 0);
  });

  test('SIGKILL of the daemon with 5 cells running: every container keeps running; a new daemon serves them Ready', async () => {
    daemon ??= await start();
    await viaDaemon(['create', 'realm', 'main']);
    assert.is((await viaDaemon(['image', 'load', archive, '--realm', 'main'])).code, 0);
    const names = ['k1', 'k2', 'k3', 'k4', 'k5'];
    const applied = await viaDaemon(['apply', '-f', '-'], names.map((n) => cell(n, ['w'])).join('---\n'));
    assert.is(applied.code, 0, applied.stderr);
    const before = (await client.tasks.list(NS))
      .map((t) => ({ id: t.id, pid: t.pid, status: t.status }))
      .sort((a, b) => a.id.localeCompare(b.id));
    assert.is(before.length, 10, 'a root and a workload per cell');
    assert.ok(before.every((t) => t.status === 'RUNNING'));

    await daemon.kill();
    const after = (await client.tasks.list(NS))
      .map((t) => ({ id: t.id, pid: t.pid, status: t.status }))
      .sort((a, b) => a.id.localeCompare(b.id));
    assert.equal(after, before, 'the containers outlive the daemon');
    for (const t of after) assert.ok(fs.existsSync(`/proc/${t.pid}`), `pid ${t.pid} is alive`);

    await start();
    const got = await viaDaemon(['get', 'cells', '--realm', 'main', '--space', 'blog', '--stack', 'wp']);
    assert.is(got.code, 0, got.stderr);
    for (const n of names) assert.match(got.stdout, new RegExp(`^${n}\\s+main\\s+blog\\s+wp\\s+Ready`, 'm'));
    const again = (await client.tasks.list(NS))
      .map((t) => ({ id: t.id, pid: t.pid, status: t.status }))
      .sort((a, b) => a.id.localeCompare(b.id));
    assert.equal(again, before, 'nothing was restarted');
    assert.is((await viaDaemon(['purge', 'realm', 'main', '--cascade'])).code, 0);
  });

  test('Ctrl-C during an apply that pulls a slow image aborts the pull in the daemon and leaves no half-made containers', async () => {
    daemon ??= await start();
    // A registry on loopback whose one layer trickles: the pull is still running when the client is interrupted.
    const layerSize = 64 * 1024 * 1024;
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } }),
    );
    const digest = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
    const layerDigest = `sha256:${'1'.repeat(64)}`;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layerSize }],
      }),
    );
    let layerRequested = false;
    let layerAborted = false;
    const server = http.createServer((req, res) => {
      const url = req.url ?? '';
      if (url === '/v2/') return res.writeHead(200).end('{}');
      if (url.startsWith('/v2/slow/manifests/')) {
        res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Docker-Content-Digest': digest(manifest) });
        return res.end(req.method === 'HEAD' ? undefined : manifest);
      }
      if (url === `/v2/slow/blobs/${digest(config)}`) return res.writeHead(200).end(config);
      if (url === `/v2/slow/blobs/${layerDigest}`) {
        layerRequested = true;
        res.writeHead(200, { 'Content-Length': String(layerSize) });
        const timer = setInterval(() => res.write(Buffer.alloc(1024)), 50);
        res.on('close', () => {
          clearInterval(timer);
          if (!res.writableFinished) layerAborted = true;
        });
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const doc = cell('slow', ['s']).replace(IMAGE, `127.0.0.1:${port}/slow:1`);
      const child = spawn(process.execPath, [KUKE_BIN, 'apply', '-f', '-'], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH, KUKEON_SOCKET: socket() },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdin.end(doc);
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      await waitFor('the daemon to start fetching the layer', () => layerRequested, 30_000);
      child.kill('SIGINT');
      const code = await exited;
      assert.is(code, 130, `Ctrl-C exits 130: ${stderr}`);
      assert.match(stderr, 'KUKEON_E_CANCELLED');
      await waitFor('the daemon to abort the layer download', () => layerAborted, 10_000);
      const containers = await client.containers.list(NS);
      assert.equal(
        containers.filter((c) => c.labels?.['kukeon.io/cell'] === 'slow').map((c) => c.id),
        [],
        'no containerd container of the cell',
      );
      const got = await viaDaemon(['get', 'cell', 'slow', '--realm', 'main', '--space', 'blog', '--stack', 'wp']);
      assert.is(got.code, 1, 'the cell was never written');
      assert.match(got.stderr, 'KUKEON_E_NOT_FOUND');
      assert.is((await viaDaemon(['get', 'realms'])).code, 0, 'the daemon keeps serving');
      assert.is((await viaDaemon(['purge', 'realm', 'main', '--cascade'])).code, 0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
