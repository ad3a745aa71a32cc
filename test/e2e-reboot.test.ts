// kukeond's start-up pass on the private containerd, with the daemon as a process inside the harness's netns.
// A reboot simulated in the harness: every task, shim and containerd itself killed by pid, the socket dir wiped,
// the netns's bridges and iptables rules and the spaces' conflists removed, kukeon's cgroups under the test root
// removed, a new boot id presented (KUKEON_BOOT_ID_FILE); containerd and kukeond start again. Policy cells run
// again with their network and cgroups, the others are Stopped with reason Reboot, no cell is Ready without tasks.
// And plain daemon restarts: `kuke stop` under `always` comes back, under `unless-stopped` stays stopped.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { spaceNetworkNames } from '../plugins/cni/naming';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { E2EHarness, shimPids, tempCniTable, CNI_BIN } from './e2e/harness';
import type { RunResult } from './e2e/harness';
import { cgroupMounts, e2eSuite } from './e2e/requirements';
import { buildBusyboxOciFile } from './helpers/busybox-oci';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { waitFor } from './helpers/wait-for';

const IMAGE = 'docker.io/kukeon/busybox:test';
const NS = 'kukeon-main';
/** The cgroup2 mount (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a hybrid host). */
const CGROUP2 = cgroupMounts().find((m) => m.fstype === 'cgroup2')?.mountPoint ?? '/sys/fs/cgroup';
const SCOPE = ['--realm', 'main', '--space', 'blog', '--stack', 'wp'];

const cell = (name: string, policy: string) => `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: w, image: "${IMAGE}", command: sh, args: ["-c", "trap 'exit 0' TERM; sleep 600 & wait"], restartPolicy: ${policy} }
`;

interface Status {
  state?: string;
  reason?: string;
  ip?: string;
  cgroupPath?: string;
  stoppedByUser?: boolean;
  root?: { containerdId?: string; pid?: number };
}

/** Kills every process of a cgroup2 subtree of the test's own root (cgroup.kill) and waits until it is empty. */
async function killCgroup(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
  await waitFor(`every process of ${dir} to die`, () => procsUnder(dir).length === 0, 10_000);
}

/** Removes `dir` and everything below it with rmdir only, deepest first (cgroupfs directories). */
function rmdirTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmdirTree(path.join(dir, e.name));
  fs.rmdirSync(dir);
}

/** Every pid in `dir` and below (a cgroup2 subtree). */
function procsUnder(dir: string): number[] {
  if (!fs.existsSync(dir)) return [];
  const own = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  const below = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => procsUnder(path.join(dir, e.name)));
  return [...own, ...below];
}

e2eSuite('kukeond start-up pass: reboot recovery and policy starts', (test) => {
  let h: E2EHarness;
  let client: ContainerdClient;
  let daemon: Daemon | undefined;
  const confDir = () => path.join(h.tmp, 'cni', 'net.d');
  const socketDir = () => path.join(h.tmp, 'd');
  const socket = () => path.join(socketDir(), 'kukeond.sock');
  const bootIdFile = () => path.join(h.tmp, 'boot_id');
  const runPath = () => path.join(h.tmp, 'daemon-state');
  const viaDaemon = (args: string[], input?: string): Promise<RunResult> =>
    h.kuke(args, { input, timeoutMs: 120_000, env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() } });
  const ok = async (args: string[], input?: string) => {
    const r = await viaDaemon(args, input);
    assert.is(r.code, 0, `kuke ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const start = async () => {
    daemon = await startDaemon({
      socket: socket(),
      runPath: runPath(),
      config: h.configFile,
      prefix: ['nsenter', `--net=${h.netnsPath}`],
      env: { KUKEON_BOOT_ID_FILE: bootIdFile() },
      readyTimeoutMs: 120_000,
    });
    return daemon;
  };
  const restartDaemon = async () => {
    await daemon?.stop();
    return start();
  };
  const yamlOf = (...rel: string[]) => YAML.parse(fs.readFileSync(path.join(runPath(), ...rel), 'utf8'));
  const cellStatus = (name: string): Status => yamlOf('main', 'blog', 'wp', name, 'cell.yaml').status ?? {};
  const containerStatus = (name: string, id = 'w'): Status => yamlOf('main', 'blog', 'wp', name, 'containers', `${id}.yaml`).status ?? {};
  const runningTasks = async () => new Map((await client.tasks.list(NS)).filter((t) => t.status === 'RUNNING').map((t) => [t.id, t.pid]));
  const runs = async (name: string) => {
    const tasks = await runningTasks();
    const root = cellStatus(name).root?.containerdId;
    return !!root && tasks.has(root) && tasks.has(`blog_wp_${name}_w`);
  };

  test.before(async () => {
    const missing = ['bridge', 'host-local', 'portmap'].filter((b) => !fs.existsSync(path.join(CNI_BIN, b)));
    if (missing.length)
      throw new Error(`CNI plugins missing in ${CNI_BIN}: ${missing.join(', ')} (apt-get install containernetworking-plugins)`);
    h = await E2EHarness.start({
      name: 'reboot',
      plugins: ({ tmp, cgroupRoot }) => ({
        cni: tempCniTable(tmp),
        cgroupv2: { root: cgroupRoot },
      }),
    });
    client = new ContainerdClient(h.socket);
    fs.writeFileSync(bootIdFile(), `${randomUUID()}\n`);
    await start();
    await ok(['create', 'realm', 'main']);
    await ok(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'main']);
  });

  test.after(async () => {
    await daemon?.kill();
    // A failure in the middle of the reboot leaves tasks without shims: they are this test's, in its own cgroup root.
    if (h && shimPids(h.socket).length === 0) await killCgroup(path.join(CGROUP2, h.cgroupRoot)).catch(() => undefined);
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff ?? [], [], `the host changed: ${diff?.join('; ')}`);
  });

  test('the first start records the boot id in the alive file beside the socket', async () => {
    assert.is(fs.readFileSync(path.join(socketDir(), 'alive'), 'utf8').trim(), fs.readFileSync(bootIdFile(), 'utf8').trim());
  });

  test('kuke stop under always: not running until the daemon restarts, then back', async () => {
    await ok(['apply', '-f', '-'], cell('back', 'always'));
    assert.ok(await runs('back'));
    await ok(['stop', 'back', ...SCOPE, '--timeout', '0']);
    assert.is(cellStatus('back').state, 'Stopped');
    assert.is(containerStatus('back').stoppedByUser, true, 'the user stop is persisted');
    assert.not.ok(await runs('back'));
    await restartDaemon();
    assert.match(daemon!.stderr(), /start-up pass after a daemon restart: .*1 started by their restart policy: main\/blog\/wp\/back/);
    assert.ok(await runs('back'), 'always brings it back after a daemon restart');
    assert.is(cellStatus('back').state, 'Ready');
    assert.is(containerStatus('back').stoppedByUser, undefined, 'running again: no longer stopped by the user');
    await ok(['delete', 'cell', 'back', ...SCOPE]);
  });

  test('kuke stop under unless-stopped: stays stopped after a daemon restart; a running cell is left alone', async () => {
    await ok(['apply', '-f', '-'], `${cell('held', 'unless-stopped')}---\n${cell('steady', 'unless-stopped')}`);
    await ok(['stop', 'held', ...SCOPE, '--timeout', '0']);
    const steadyPid = (await runningTasks()).get('blog_wp_steady_w');
    assert.ok(steadyPid);
    await restartDaemon();
    assert.match(daemon!.stderr(), /0 started by their restart policy/);
    assert.not.ok(await runs('held'), 'unless-stopped keeps the user stop');
    assert.is(cellStatus('held').state, 'Stopped');
    assert.is((await runningTasks()).get('blog_wp_steady_w'), steadyPid, 'the running cell was not restarted');
    await ok(['delete', 'cell', 'held', ...SCOPE]);
    await ok(['delete', 'cell', 'steady', ...SCOPE]);
  });

  test('containerd down at start-up: kukeond serves, marks nothing, keeps the old boot recorded; the pass runs once containerd is back', async () => {
    await ok(['apply', '-f', '-'], cell('calm', 'never'));
    const pid = (await runningTasks()).get('blog_wp_calm_w');
    assert.ok(pid);
    const oldBoot = fs.readFileSync(bootIdFile(), 'utf8').trim();
    await daemon!.stop();
    await h.killContainerd(); // its shims keep the tasks running
    fs.writeFileSync(bootIdFile(), `${randomUUID()}\n`);
    const record = fs.readFileSync(path.join(runPath(), 'main', 'blog', 'wp', 'calm', 'cell.yaml'), 'utf8');
    await start();
    assert.match(daemon!.stderr(), /start-up pass after a reboot skipped: containerd at .* does not answer/);
    assert.is((await viaDaemon(['get', 'realms'])).code, 0, 'the daemon serves');
    assert.is(fs.readFileSync(path.join(runPath(), 'main', 'blog', 'wp', 'calm', 'cell.yaml'), 'utf8'), record, 'nothing was marked');
    assert.is(fs.readFileSync(path.join(socketDir(), 'alive'), 'utf8').trim(), oldBoot, 'this boot is not recorded yet');

    await h.startContainerd();
    const newBoot = fs.readFileSync(bootIdFile(), 'utf8').trim();
    await waitFor('the pass to run again', () => /start-up pass after a reboot: converged/.test(daemon!.stderr()), 60_000);
    assert.match(
      daemon!.stderr(),
      /start-up pass after a reboot: converged 3 .*0 cell\(s\) without tasks marked Stopped/,
      daemon!.stderr(),
    );
    assert.is(fs.readFileSync(path.join(socketDir(), 'alive'), 'utf8').trim(), newBoot, 'this boot is recorded');
    assert.is((await runningTasks()).get('blog_wp_calm_w'), pid, 'the running cell was left alone');
    assert.is(cellStatus('calm').state, 'Ready');
    await ok(['delete', 'cell', 'calm', ...SCOPE]);
  });

  test('a simulated reboot: policy cells run again with network and cgroups, the others are Stopped (Reboot)', async () => {
    const policies = { alw: 'always', uls: 'unless-stopped', onf: 'on-failure', nev: 'never' } as const;
    await ok(
      ['apply', '-f', '-'],
      Object.entries(policies)
        .map(([n, p]) => cell(n, p))
        .join('---\n'),
    );
    // A user-stopped unless-stopped cell stays stopped across the reboot.
    await ok(['apply', '-f', '-'], cell('ulsstop', 'unless-stopped'));
    await ok(['stop', 'ulsstop', ...SCOPE, '--timeout', '0']);
    for (const n of Object.keys(policies)) assert.ok(await runs(n), `${n} runs before the reboot`);
    const net = yamlOf('main', 'blog', 'space.yaml').status.network as { bridge: string; gateway: string; conflistPath: string };
    assert.is(net.bridge, spaceNetworkNames('main', 'blog').bridge);
    const before = await runningTasks();
    const cgroupTop = path.join(CGROUP2, cellStatus('alw').cgroupPath!.split('/')[1]);
    assert.ok(cgroupTop.endsWith(h.cgroupRoot), `kukeon's cgroups live under the test root (${cgroupTop})`);

    // The "power cut": kukeond, containerd, its shims and every task, by pid.
    await daemon!.kill();
    const shims = shimPids(h.socket);
    assert.ok(shims.length >= 8, `the shims of the running tasks (${shims.length})`);
    await h.killContainerd();
    for (const pid of shims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await killCgroup(cgroupTop);
    await waitFor('the shims to die', () => shimPids(h.socket).length === 0, 10_000);
    // What a reboot takes away: /run/kukeon, the cgroup tree, bridges, veths and rules; and the conflists.
    fs.rmSync(socketDir(), { recursive: true, force: true });
    for (const m of cgroupMounts()) rmdirTree(path.join(m.mountPoint, h.cgroupRoot)); // runc's v1 directories too on a hybrid host
    const bridges = (await h.exec('ip', ['-o', 'link', 'show', 'type', 'bridge'])).stdout;
    assert.match(bridges, net.bridge);
    for (const b of bridges.matchAll(/^\d+: ([^:@]+)[:@]/gm)) assert.is((await h.exec('ip', ['link', 'del', b[1]])).code, 0);
    for (const table of ['filter', 'nat']) {
      assert.is((await h.exec('iptables', ['-w', '-t', table, '-F'])).code, 0);
      assert.is((await h.exec('iptables', ['-w', '-t', table, '-X'])).code, 0);
    }
    assert.not.match((await h.exec('iptables-save', [])).stdout, 'KUKEON');
    for (const f of fs.readdirSync(confDir())) fs.rmSync(path.join(confDir(), f));
    fs.writeFileSync(bootIdFile(), `${randomUUID()}\n`);

    await h.startContainerd();
    const t0 = Date.now();
    await start();
    const startUpMs = Date.now() - t0;
    const log = daemon!.stderr();
    assert.match(log, /start-up pass after a reboot: converged 3 realm\(s\)\/space\(s\)\/stack\(s\)/);
    console.log(`  kukeond after the reboot: serving in ${startUpMs} ms; ${log.split('\n').find((l) => l.includes('start-up pass'))}`);

    const after = await runningTasks();
    for (const n of ['alw', 'uls', 'onf']) {
      assert.ok(await runs(n), `${n} runs again after the reboot: ${log}`);
      assert.is.not(after.get(`blog_wp_${n}_w`), before.get(`blog_wp_${n}_w`), `${n}'s workload is a new process`);
      const st = cellStatus(n);
      assert.is(st.state, 'Ready', n);
      assert.is(containerStatus(n).state, 'Ready');
      assert.is(containerStatus(n).reason, undefined, `${n}: running, no reason left`);
      assert.ok(st.ip, `${n} has an IP`);
      const ping = await h.exec('/bin/busybox', ['ping', '-c', '1', '-W', '2', st.ip!]);
      assert.is(ping.code, 0, `${n} (${st.ip}) answers from the netns: ${ping.stdout}${ping.stderr}`);
      const leaf = path.join(CGROUP2, containerStatus(n).cgroupPath!);
      assert.ok(procsUnder(leaf).length > 0, `${n}'s workload runs in its cgroup ${leaf}`);
    }
    for (const n of ['nev', 'ulsstop']) {
      assert.not.ok(await runs(n), `${n} is not started`);
      assert.is(cellStatus(n).state, 'Stopped', n);
    }
    assert.is(cellStatus('nev').reason, 'Reboot');
    assert.is(containerStatus('nev').state, 'Stopped');
    assert.is(containerStatus('nev').reason, 'Reboot');
    assert.is(cellStatus('ulsstop').reason, undefined, 'a cell the user stopped before the reboot keeps its state');
    // The space's network and the levels' cgroups were made again.
    assert.match((await h.exec('ip', ['-o', 'link', 'show', net.bridge])).stdout, net.bridge);
    assert.ok(fs.existsSync(net.conflistPath), 'the conflist is written again');
    const rules = (await h.exec('iptables-save', [])).stdout;
    assert.match(rules, 'KUKEON-FORWARD');
    assert.match(rules, `KUKEON-${net.bridge}`);
    for (const level of [['main'], ['main', 'blog'], ['main', 'blog', 'wp']])
      assert.ok(fs.existsSync(path.join(cgroupTop, ...level)), `cgroup ${level.join('/')}`);
    // No cell is Ready without its tasks.
    const cells = fs.readdirSync(path.join(runPath(), 'main', 'blog', 'wp'), { withFileTypes: true }).filter((e) => e.isDirectory());
    assert.is(cells.length, 5);
    for (const { name } of cells) {
      const st = cellStatus(name);
      if (st.state === 'Ready') assert.ok(after.has(st.root?.containerdId ?? ''), `${name} is Ready with its root running`);
    }
    assert.is(fs.readFileSync(path.join(socketDir(), 'alive'), 'utf8').trim(), fs.readFileSync(bootIdFile(), 'utf8').trim());
    // get agrees with the files.
    const got = await ok(['get', 'cells', ...SCOPE]);
    assert.match(got, /^nev\s+main\s+blog\s+wp\s+Stopped/m);
    assert.match(got, /^alw\s+main\s+blog\s+wp\s+Ready/m);
    // A cell left Stopped by the reboot starts as any stopped cell does, with a working network.
    await ok(['start', 'nev', ...SCOPE]);
    assert.ok(await runs('nev'));
    const nevIp = cellStatus('nev').ip!;
    assert.is((await h.exec('/bin/busybox', ['ping', '-c', '1', '-W', '2', nevIp])).code, 0, `nev answers at ${nevIp}`);
    assert.is(cellStatus('nev').reason, undefined, 'started: the Reboot reason is gone');
    assert.is(containerStatus('nev').reason, undefined, "and its container's too");
    assert.is((await viaDaemon(['purge', 'realm', 'main', '--cascade'])).code, 0);
  });
});
