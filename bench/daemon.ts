// Benchmark: kukeond, the daemon, against peers measured in the same run. Prints medians and ratios, one line each as
// `name: kukeon X ms, peer Y ms, ratio R (target T)`; it never passes or fails on a time. Run as root:
// `npx tsc -p tsconfig.json && node dist/bench/daemon.js [--quick] [--runs N] [--cells N] [--seconds S] [--only store|containerd]`.
//   containerd (a private containerd in its own netns: test/e2e/harness.ts; kukeond runs in that netns):
//     1. one cell applied to running through the daemon (`kuke apply -f -`, KUKEON_SOCKET) vs the ctr pair
//        (two `ctr run -d`, the second joining the first's netns), as bench/cell-start.ts does it;
//     2. `kuke get cells` / `kuke version` (pings the daemon) / `kuke version --client` vs `node -e 0`;
//     5. podman, when installed: a bridged cell (kukeond with the cni plugin) vs a pod on a netavark bridge, both in
//        the harness netns, both on runc: up (create + start), full lifecycle (+ remove), and listing.
//   store only (no runtime; a daemon with only store-yaml, on a tree of N cells written straight to disk):
//     3. `kuke get cells -A` through the daemon (first call and warm) and in-process; a scoped get in the big tree
//        vs in a small tree; `kuke apply` of 1,000 new cells in-process;
//     4. 100 concurrent SocketClients in this process doing scoped gets for S seconds: gets/s, p50/p99, against
//        the same clients calling `version` (the transport's ceiling); the daemon's VmRSS before and after.
// Process timings are wall clock of spawnSync (start to exit), alternating kukeon and peer runs.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { SocketClient } from '../plugins/api-socket/client';
import { E2EHarness } from '../test/e2e/harness';
import { e2eRequirements, findBinary } from '../test/e2e/requirements';
import { buildBusyboxOciFile } from '../test/helpers/busybox-oci';
import type { Daemon } from '../test/helpers/daemon';
import { startDaemon } from '../test/helpers/daemon';
import { KUKE_BIN } from '../test/helpers/kuke';
import { ctrPeer } from './ctr-peer';
import { buildTree } from './store-tree';

const IMAGE = 'docker.io/kukeon/busybox:test';
const CTR_NS = 'ctr-bench';
const STORE_ONLY = 'plugins:\n  store-yaml: {}\n';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const num = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const RUNS = num('--runs', quick ? 3 : 10);
const FAST_RUNS = quick ? 5 : 20; // for the sub-second commands
const CELLS = num('--cells', 10_000);
const SECONDS = num('--seconds', quick ? 3 : 10);
const CLIENTS = num('--clients', 100);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const progress = (s: string) => process.stderr.write(`[bench] ${s}\n`);

/** `name: kukeon X ms, peer Y ms, ratio R (target T)`; `unit` for lines that are not milliseconds. */
function line(name: string, k: number, peer: number | undefined, target: string, unit = 'ms'): void {
  const p = peer === undefined ? 'n/a' : `${f(peer)} ${unit}`;
  const r = peer === undefined ? 'n/a' : (k / peer).toFixed(2);
  console.log(`${name}: kukeon ${f(k)} ${unit}, peer ${p}, ratio ${r} (target ${target})`);
}
function skip(name: string, reason: string): void {
  console.log(`${name}: skipped (${reason})`);
}

/** The environment for a child: ours without KUKEON_* and DEBUG, plus `extra`. */
function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KUKEON_') && k !== 'DEBUG') e[k] = v;
  e.NO_COLOR = '1';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return e;
}

/** Runs a command to its exit; returns its wall time (ms) and stdout; throws on a non-zero exit. */
function timed(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): { ms: number; out: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: opts.env ?? env(), input: opts.input ?? '', encoding: 'utf8', maxBuffer: 1 << 28 });
  const t = ms(t0);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}${r.error?.message ?? ''}`);
  return { ms: t, out: r.stdout };
}
const nodeStart = () => timed(process.execPath, ['-e', '0']).ms;

/** `kuke ARGS` through the daemon at `socket`. */
const viaDaemon = (socket: string, args: string[], input?: string) =>
  timed(process.execPath, [KUKE_BIN, ...args], { env: env({ KUKEON_SOCKET: socket }), input });
/** `kuke ARGS` in-process on `runPath` with `config`. */
const inProcess = (runPath: string, config: string, args: string[], input?: string) =>
  timed(process.execPath, [KUKE_BIN, ...args, '--run-path', runPath, '--config', config], {
    env: env({ KUKEON_NO_DAEMON: '1' }),
    input,
  });

function vmRssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function cellDocs(names: string[], realm: string): string {
  return names
    .map(
      (n) => `apiVersion: v1beta1
kind: Cell
metadata: { name: ${n} }
spec:
  realmId: ${realm}
  spaceId: s
  stackId: t
  containers:
    - { id: w, image: "${IMAGE}", command: sleep, args: ["300"] }`,
    )
    .join('\n---\n');
}

// ---------------------------------------------------------------------------------------------------------------
// 1, 2 and 5: on the private containerd

async function containerdBenches(): Promise<void> {
  const req = e2eRequirements();
  if (!req.ok) {
    for (const n of ['1 cell apply to running (daemon)', '2 get/version (daemon)', '5 podman'])
      skip(n, `needs what the e2e tests need: ${req.reason}`);
    return;
  }
  const cniBin = '/usr/lib/cni';
  const h = await E2EHarness.start({ name: 'bench-daemon' });
  const daemons: Daemon[] = [];
  try {
    const archive = await buildBusyboxOciFile(h.tmp);
    const inNetns = ['nsenter', `--net=${h.netnsPath}`];
    const peer = ctrPeer(h, CTR_NS, IMAGE);
    const ctr = peer.ctr;

    // kukeond A: the harness configuration (store-yaml + containerd), in the harness netns.
    const sockA = path.join(h.tmp, 'a', 'kukeond.sock');
    fs.mkdirSync(path.dirname(sockA), { recursive: true });
    let t0 = process.hrtime.bigint();
    const a = await startDaemon({ socket: sockA, runPath: path.join(h.tmp, 'a-state'), config: h.configFile, prefix: inNetns });
    daemons.push(a);
    progress(`kukeond (containerd) serving after ${f(ms(t0))} ms`);
    viaDaemon(sockA, ['apply', '-f', '-'], 'kind: Realm\nmetadata: { name: bench }\n');
    viaDaemon(sockA, ['image', 'load', archive, '--realm', 'bench']);
    ctr(['images', 'import', archive]);

    // The ctr pair (bench/ctr-peer.ts), without a network.
    const ctrPair = (id: string) => peer.pair(id);
    const ctrCleanup = () => peer.cleanup();
    const kukeCleanup = () => viaDaemon(sockA, ['purge', 'space', 's', '--realm', 'bench', '--cascade']);

    // 1. one cell to running
    const single = { kuke: [] as number[], ctr: [] as number[] };
    for (let run = 0; run < RUNS; run++) {
      single.kuke.push(viaDaemon(sockA, ['apply', '-f', '-'], cellDocs([`c${run}`], 'bench')).ms);
      kukeCleanup();
      t0 = process.hrtime.bigint();
      ctrPair(`p${run}`);
      single.ctr.push(ms(t0));
      ctrCleanup();
      progress(`1: run ${run + 1}/${RUNS}: kuke ${f(single.kuke[run])} ms, ctr ${f(single.ctr[run])} ms`);
    }
    line('1 cell apply to running via daemon vs ctr pair', median(single.kuke), median(single.ctr), '<= 1.1x');

    // 2. the daemon's short commands vs node -e 0, with one cell running in the scope
    viaDaemon(sockA, ['apply', '-f', '-'], cellDocs(['live'], 'bench'));
    const scope = ['--realm', 'bench', '--space', 's', '--stack', 't'];
    const short = { node: [] as number[], get: [] as number[], version: [] as number[], client: [] as number[] };
    for (let run = 0; run < FAST_RUNS; run++) {
      short.node.push(nodeStart());
      const g = viaDaemon(sockA, ['get', 'cells', ...scope]);
      if (run === 0 && !/live/.test(g.out)) throw new Error(`kuke get cells did not list the cell: ${g.out}`);
      short.get.push(g.ms);
      const v = viaDaemon(sockA, ['version']);
      if (run === 0 && !/Daemon: v/.test(v.out)) throw new Error(`kuke version did not reach the daemon: ${v.out}`);
      short.version.push(v.ms);
      short.client.push(viaDaemon(sockA, ['version', '--client']).ms);
    }
    const node = median(short.node);
    line('2 kuke get cells (1 cell, containerd) via daemon vs node -e 0', median(short.get), node, '<= 1.5x');
    line('2 kuke version (daemon ping) vs node -e 0', median(short.version), node, '<= 1.3x');
    line('2 kuke version --client vs node -e 0', median(short.client), node, '<= 1.3x');
    viaDaemon(sockA, ['purge', 'realm', 'bench', '--cascade']);
    await a.stop();

    await podmanBenches(h, archive, cniBin, inNetns, daemons);
  } finally {
    for (const d of daemons) await d.kill();
    const diff = await h.stop();
    if (diff.length) console.log(`host changed: ${diff.join('; ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 5. podman

async function podmanBenches(h: E2EHarness, archive: string, cniBin: string, inNetns: string[], daemons: Daemon[]): Promise<void> {
  const names = ['5 bridged cell up vs podman pod', '5 bridged cell lifecycle vs podman pod', '5 kuke get cells vs podman ps -a'];
  const podman = findBinary('podman');
  if (!podman) {
    for (const n of names) skip(n, 'podman is not installed (apt-get install -y podman)');
    return;
  }
  // podman's world, all in a temp dir inside the harness's (removed with it): storage, runroot, tmp_dir, networks.
  const P = path.join(h.tmp, 'podman');
  for (const d of ['root', 'runroot', 'tmp', 'networks']) fs.mkdirSync(path.join(P, d), { recursive: true });
  const limits = execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim().split('\n');
  const q = (s: string) => JSON.stringify(s);
  fs.writeFileSync(
    path.join(P, 'containers.conf'),
    [
      '[containers]',
      // without CAP_SYS_RESOURCE podman's defaults (above the hard limits) cannot be set; nproc at our hard limit
      // fails in runc init all the same (EPERM), 4096 works
      `default_ulimits = [${q(`nofile=${limits[0]}:${limits[0]}`)}, "nproc=4096:4096"]`,
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = ${q(path.join(P, 'events.log'))}`,
      `tmp_dir = ${q(path.join(P, 'tmp'))}`,
      'runtime = "runc"',
      '[network]',
      'network_backend = "netavark"',
      `network_config_dir = ${q(path.join(P, 'networks'))}`,
      `cni_plugin_dirs = [${q(cniBin)}]`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(P, 'storage.conf'),
    [
      '[storage]',
      'driver = "overlay"',
      `graphroot = ${q(path.join(P, 'root'))}`,
      `runroot = ${q(path.join(P, 'runroot'))}`,
      '[storage.options.overlay]',
      'skip_mount_home = "true"',
      '',
    ].join('\n'),
  );
  const podmanEnv = env({ CONTAINERS_CONF: path.join(P, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(P, 'storage.conf') });
  const pm = (args: string[]) =>
    timed(
      'nsenter',
      [
        `--net=${h.netnsPath}`,
        podman,
        '--root',
        path.join(P, 'root'),
        '--runroot',
        path.join(P, 'runroot'),
        '--cgroup-manager',
        'cgroupfs',
        ...args,
      ],
      { env: podmanEnv },
    );
  const cgroupParent = `/${h.cgroupRoot}/podman`;
  // What rootful podman 4 writes outside --root/--runroot/tmp_dir whatever the configuration says: netavark's IPAM
  // database and the image library's blob cache. Removed at the end when they were not there before.
  const outside = [
    '/run/containers',
    '/run/containers/networks',
    '/run/containers/networks/ipam.db',
    '/var/lib/containers',
    '/var/lib/containers/cache',
    '/var/lib/containers/cache/blob-info-cache-v1.boltdb',
  ].filter((p) => !fs.existsSync(p));
  try {
    try {
      pm(['load', '-i', archive]);
      pm(['network', 'create', '--disable-dns', '--subnet', '10.93.0.0/24', 'pmbench']);
      // a first pod outside the timings: podman builds its pause image on first use
      pm(['pod', 'create', '--network', 'pmbench', '--cgroup-parent', cgroupParent, '--name', 'warm']);
      pm(['run', '-d', '--pod', 'warm', '--name', 'warm-w', IMAGE, 'sleep', '300']);
      pm(['pod', 'rm', '-f', '-t', '0', 'warm']);
    } catch (err) {
      for (const n of names) skip(n, `podman does not work here: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`);
      return;
    }

    // kukeond B: the cni plugin (its dirs in the harness temp dir), in the harness netns.
    const cniConfig = path.join(h.tmp, 'kukeon-cni.yaml');
    fs.writeFileSync(
      cniConfig,
      YAML.stringify({
        plugins: h.pluginTable({
          cni: {
            confDir: path.join(h.tmp, 'cni', 'net.d'),
            cacheDir: path.join(h.tmp, 'cni', 'cache'),
            ipamDataDir: path.join(h.tmp, 'cni', 'ipam'),
            binDirs: [cniBin],
          },
        }),
      }),
    );
    const sockB = path.join(h.tmp, 'b', 'kukeond.sock');
    fs.mkdirSync(path.dirname(sockB), { recursive: true });
    const b = await startDaemon({ socket: sockB, runPath: path.join(h.tmp, 'b-state'), config: cniConfig, prefix: inNetns });
    daemons.push(b);
    viaDaemon(sockB, ['apply', '-f', '-'], 'kind: Realm\nmetadata: { name: pod }\n');
    viaDaemon(sockB, ['image', 'load', archive, '--realm', 'pod']);
    const scope = ['--realm', 'pod', '--space', 's', '--stack', 't'];
    // the space (and its network) exists before the timings, as podman's network does
    viaDaemon(sockB, ['apply', '-f', '-'], cellDocs(['warm'], 'pod'));
    viaDaemon(sockB, ['delete', 'cell', 'warm', ...scope, '--force']);

    const up = { kuke: [] as number[], podman: [] as number[] };
    const life = { kuke: [] as number[], podman: [] as number[] };
    const podUp = (n: string) => {
      const t = pm(['pod', 'create', '--network', 'pmbench', '--cgroup-parent', cgroupParent, '--name', n]).ms;
      return t + pm(['run', '-d', '--pod', n, '--name', `${n}-w`, IMAGE, 'sleep', '300']).ms;
    };
    for (let run = 0; run < RUNS; run++) {
      const ku = viaDaemon(sockB, ['apply', '-f', '-'], cellDocs([`u${run}`], 'pod')).ms;
      const kd = viaDaemon(sockB, ['delete', 'cell', `u${run}`, ...scope, '--force']).ms;
      up.kuke.push(ku);
      life.kuke.push(ku + kd);
      const pu = podUp(`p${run}`);
      const pd = pm(['pod', 'rm', '-f', '-t', '0', `p${run}`]).ms;
      up.podman.push(pu);
      life.podman.push(pu + pd);
      progress(`5: run ${run + 1}/${RUNS}: up kuke ${f(ku)} ms, podman ${f(pu)} ms; remove kuke ${f(kd)} ms, podman ${f(pd)} ms`);
    }
    line('5 bridged cell up (create+start) via daemon vs podman pod create + run -d --pod', median(up.kuke), median(up.podman), '<= 0.6x');
    line('5 bridged cell lifecycle (create, start, remove) vs podman pod', median(life.kuke), median(life.podman), '<= 0.6x');

    // listing: 5 running cells vs 5 running pods (10 containers each side, infra/root included)
    const listed = ['l0', 'l1', 'l2', 'l3', 'l4'];
    viaDaemon(sockB, ['apply', '-f', '-'], cellDocs(listed, 'pod'));
    for (const n of listed) podUp(n);
    const list = { kuke: [] as number[], podman: [] as number[] };
    for (let run = 0; run < FAST_RUNS; run++) {
      list.kuke.push(viaDaemon(sockB, ['get', 'cells', ...scope]).ms);
      list.podman.push(pm(['ps', '-a']).ms);
    }
    line('5 kuke get cells (5 cells) via daemon vs podman ps -a (5 pods)', median(list.kuke), median(list.podman), '<= 0.6x');
    viaDaemon(sockB, ['purge', 'realm', 'pod', '--cascade']);
    await b.stop();
  } finally {
    // everything podman made: its pods and containers, its network (the bridge lives in the harness netns), its dirs
    spawnSync(
      'nsenter',
      [
        `--net=${h.netnsPath}`,
        podman,
        '--root',
        path.join(P, 'root'),
        '--runroot',
        path.join(P, 'runroot'),
        'pod',
        'rm',
        '-a',
        '-f',
        '-t',
        '0',
      ],
      { env: podmanEnv },
    );
    spawnSync(
      'nsenter',
      [`--net=${h.netnsPath}`, podman, '--root', path.join(P, 'root'), '--runroot', path.join(P, 'runroot'), 'rm', '-a', '-f', '-t', '0'],
      { env: podmanEnv },
    );
    spawnSync(
      'nsenter',
      [
        `--net=${h.netnsPath}`,
        podman,
        '--root',
        path.join(P, 'root'),
        '--runroot',
        path.join(P, 'runroot'),
        'network',
        'rm',
        '-f',
        'pmbench',
      ],
      { env: podmanEnv },
    );
    const mounts = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m) => m && (m === P || m.startsWith(`${P}/`)))
      .sort((x, y) => y.length - x.length);
    for (const m of mounts) spawnSync('umount', [m]);
    fs.rmSync(P, { recursive: true, force: true });
    for (const p of outside.reverse()) fs.rmSync(p, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 3 and 4: store only

async function storeBenches(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-bench-daemon-'));
  let daemon: Daemon | undefined;
  try {
    const config = path.join(tmp, 'kukeon.yaml');
    fs.writeFileSync(config, STORE_ONLY);
    const per = Math.ceil(CELLS / 100);
    const big = path.join(tmp, 'big');
    let t0 = process.hrtime.bigint();
    buildTree(big, 10, 2, 5, per); // 10 realms x 2 spaces x 5 stacks
    const small = path.join(tmp, 'small');
    buildTree(small, 1, 1, 1, per);
    progress(`wrote ${per * 100} + ${per} cells in ${f(ms(t0))} ms`);

    const sock = path.join(tmp, 'd', 'kukeond.sock');
    fs.mkdirSync(path.dirname(sock), { recursive: true });
    t0 = process.hrtime.bigint();
    daemon = await startDaemon({ socket: sock, runPath: big, config, readyTimeoutMs: 120_000 });
    const startMs = ms(t0);
    await new Promise((r) => setTimeout(r, 500));
    const rssIdle = vmRssMb(daemon.pid);

    // 3. the big tree
    const node = median(Array.from({ length: FAST_RUNS }, nodeStart));
    const first = viaDaemon(sock, ['get', 'cells', '-A']);
    const rows = first.out.split('\n').filter((l) => /^c\d+\s/.test(l)).length;
    if (rows !== per * 100) throw new Error(`kuke get cells -A listed ${rows} cells, not ${per * 100}`);
    const warm = median(Array.from({ length: quick ? 3 : 10 }, () => viaDaemon(sock, ['get', 'cells', '-A']).ms));
    const local = median(Array.from({ length: quick ? 1 : 3 }, () => inProcess(big, config, ['get', 'cells', '-A']).ms));
    console.log(`(store: kukeond on ${rows} cells served after ${f(startMs)} ms; node -e 0 ${f(node)} ms)`);
    line(`3 kuke get cells -A (${rows} cells) via daemon, first call, vs node -e 0`, first.ms, node, '<= 300 ms');
    line(`3 kuke get cells -A (${rows} cells) via daemon, warm, vs node -e 0`, warm, node, '<= 300 ms');
    line(`3 kuke get cells -A (${rows} cells) in-process vs node -e 0`, local, node, '<= 2000 ms');
    const scoped = ['get', 'cells', '--realm', 'r3', '--space', 's1', '--stack', 't2'];
    const smallScoped = ['get', 'cells', '--realm', 'r0', '--space', 's0', '--stack', 't0'];
    const sb: number[] = [];
    const ss: number[] = [];
    const sd: number[] = [];
    for (let i = 0; i < (quick ? 3 : 10); i++) {
      sb.push(inProcess(big, config, scoped).ms);
      ss.push(inProcess(small, config, smallScoped).ms);
      sd.push(viaDaemon(sock, scoped).ms);
    }
    line(`3 scoped get (${per} cells) in a ${rows}-cell tree vs a ${per}-cell tree, in-process`, median(sb), median(ss), '<= 1.1x');
    line(
      `3 scoped get (${per} cells) in a ${rows}-cell tree via daemon vs in-process in a ${per}-cell tree`,
      median(sd),
      median(ss),
      '<= 1x',
    );
    const manifest = [
      'apiVersion: v1beta1\nkind: Realm\nmetadata: { name: a }',
      'apiVersion: v1beta1\nkind: Space\nmetadata: { name: s }\nspec: { realmId: a }',
      'apiVersion: v1beta1\nkind: Stack\nmetadata: { name: t }\nspec: { realmId: a, spaceId: s }',
      cellDocs(
        Array.from({ length: 1000 }, (_, i) => `n${i}`),
        'a',
      ),
    ].join('\n---\n');
    const applies = Array.from(
      { length: quick ? 1 : 3 },
      (_, i) => inProcess(path.join(tmp, `apply${i}`), config, ['apply', '-f', '-'], manifest).ms,
    );
    line('3 kuke apply of 1,000 new cells in-process (store only) vs node -e 0', median(applies), node, '<= 3000 ms');

    // 4. throughput: CLIENTS SocketClients in this process, scoped gets of a `per`-cell stack, for SECONDS
    const clients = Array.from({ length: CLIENTS }, () => new SocketClient(sock));
    const load = async (call: (c: SocketClient) => Promise<unknown>, seconds: number) => {
      const lat: number[] = [];
      const end = Date.now() + seconds * 1000;
      const t = process.hrtime.bigint();
      await Promise.all(
        clients.map(async (c) => {
          while (Date.now() < end) {
            const s = process.hrtime.bigint();
            await call(c);
            lat.push(ms(s));
          }
        }),
      );
      const wall = ms(t) / 1000;
      lat.sort((x, y) => x - y);
      return { perSec: lat.length / wall, p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length };
    };
    await load((c) => c.version(), 1); // connect all and warm up
    const ping = await load((c) => c.version(), SECONDS);
    const gets = await load((c) => c.get({ kind: 'Cell', scope: ['r3', 's1', 't2'] }), SECONDS);
    for (const c of clients) c.close();
    await new Promise((r) => setTimeout(r, 500));
    const rssAfter = vmRssMb(daemon.pid);
    console.log(
      `(throughput: ${CLIENTS} clients in one node process, ${SECONDS} s each, ${os.cpus().length} cpus shared by daemon and clients; ${gets.n} gets, ${ping.n} pings)`,
    );
    line(`4 scoped gets/s (${per} cells each) vs version pings/s`, gets.perSec, ping.perSec, '>= 5000/s', '/s');
    line('4 scoped get p50 latency vs version ping p50', gets.p50, ping.p50, 'n/a');
    line('4 scoped get p99 latency vs version ping p99', gets.p99, ping.p99, '< 20 ms');
    line('4 kukeond VmRSS after the load vs idle after startup', rssAfter, rssIdle, 'idle < 80 MB', 'MB');
  } finally {
    await daemon?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(
    `kukeond benchmarks: node ${process.version}, ${os.cpus().length} cpus, ${RUNS} runs (${FAST_RUNS} for short commands)${quick ? ', --quick' : ''}`,
  );
  const i = argv.indexOf('--only');
  const only = i >= 0 ? argv[i + 1] : undefined;
  if (only !== 'containerd') await storeBenches();
  if (only !== 'store') await containerdBenches();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
