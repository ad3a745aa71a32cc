// `kuke init` and `kuke uninstall` of a whole kukeon host on temporary paths beside the machine's own: the seed's
// system realm files, kukeond running as the container kukeond (no image: the host's Node and kukeon's files
// bind-mounted into an empty rootfs) and serving a bridged cell through its socket (CNI, iptables and cgroups from
// inside the container), a second init that changes nothing, kukeond killed with SIGKILL and brought back by
// containerd's restart monitor while its cells keep running, and an uninstall that leaves the host as it was.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import YAML from 'yaml';
import { groupId } from '../sdk';
import { detectLayout } from '../plugins/cgroupv2/layout';
import { spawn } from 'node:child_process';
import { E2EHarness, shimPids, tempCniTable } from './e2e/harness';
import type { RunResult } from './e2e/harness';
import { diffHostSnapshot, takeHostSnapshot } from './e2e/host-snapshot';
import type { HostSnapshot } from './e2e/host-snapshot';
import { e2eSuite } from './e2e/requirements';
import { buildBusyboxOciFile } from './helpers/busybox-oci';
import { waitFor } from './helpers/wait-for';

const IMAGE = 'docker.io/kukeon/busybox:test';
const SYSTEM_FILES = [
  'kukeon-system/realm.yaml',
  'kukeon-system/kukeon/space.yaml',
  'kukeon-system/kukeon/kukeon/stack.yaml',
  'kukeon-system/kukeon/kukeon/kukeond/cell.yaml',
  'kukeon-system/kukeon/kukeon/kukeond/containers/kukeond.yaml',
];
const KUKEOND_ID = 'kukeon_kukeon_kukeond_kukeond';
/** containerd's own per-namespace runc root and shim sockets: they stay until containerd goes (the harness's teardown checks them). */
const CONTAINERD_OWN = /^\/run\/containerd: (appeared with |[+] )(runc\/|s\/)/;

/** Alive and not a zombie waiting for its parent. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const DEFAULT_FILES = ['default/realm.yaml', 'default/default/space.yaml', 'default/default/default/stack.yaml'];

e2eSuite('kuke init and uninstall', (test) => {
  let h: E2EHarness;
  let before: HostSnapshot;
  const group = `kt-${randomBytes(3).toString('hex')}`;
  const socket = () => path.join(h.tmp, 'sock', 'kukeond.sock');
  const pidFile = () => path.join(h.tmp, 'sock', 'kukeond.pid');
  const unitDir = () => path.join(h.tmp, 'systemd');
  const flags = () => [
    '--run-path',
    h.runPath,
    '--socket',
    socket(),
    '--config',
    h.configFile,
    '--containerd-socket',
    h.socket,
    '--group',
    group,
    '--unit-dir',
    unitDir(),
  ];
  const install = (verb: string[], input?: string): Promise<RunResult> => h.kuke([...verb, ...flags()], { input, timeoutMs: 120_000 });
  const viaDaemon = (args: string[], input?: string): Promise<RunResult> =>
    h.kuke(args, { input, timeoutMs: 60_000, env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() } });
  const ok = async (r: Promise<RunResult>) => {
    const res = await r;
    assert.is(res.code, 0, `exit ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    return res;
  };
  const daemonPid = () => {
    try {
      return Number(fs.readFileSync(pidFile(), 'utf8').trim());
    } catch {
      return 0;
    }
  };
  const kukeondLog = () => path.join(h.runPath, 'kukeon-system/kukeon/kukeon/kukeond/logs/kukeond.log');

  test.before(async () => {
    assert.is(groupId(group), undefined, `group ${group} exists before the test`);
    h = await E2EHarness.start({
      name: 'init',
      // containerd's restart monitor checks every 10 s by default; 1 s keeps the crash test short
      containerdConfigExtra: '[plugins."io.containerd.internal.v1.restart"]\n  interval = "1s"\n',
      plugins: ({ tmp, cgroupRoot }) => ({
        cgroupv2: { root: cgroupRoot },
        cni: tempCniTable(tmp),
      }),
    });
    before = takeHostSnapshot();
  });

  // A second kukeon host beside the first, on a containerd socket where nothing answers: init runs its own containerd.
  const second = () => path.join(h.tmp, 'second');
  const secondGroup = `${group}-2`;
  const secondFlags = () => [
    '--run-path',
    path.join(second(), 'run'),
    '--socket',
    path.join(second(), 'sock', 'kukeond.sock'),
    '--config',
    path.join(second(), 'kukeon.yaml'),
    '--containerd-socket',
    path.join(second(), 'ctd', 'containerd.sock'),
    '--group',
    secondGroup,
    '--unit-dir',
    path.join(second(), 'systemd'),
  ];
  const managedPidFile = () => path.join(second(), 'sock', 'containerd.pid');

  test.after(async () => {
    // a failed test may leave kukeond running: uninstall is the cleanup too (the harness kills whatever is left)
    if (h && fs.existsSync(h.runPath)) await install(['uninstall', '-y']).catch(() => undefined);
    if (h && fs.existsSync(path.join(second(), 'run')))
      await h.kuke(['uninstall', '-y', ...secondFlags()], { timeoutMs: 120_000 }).catch(() => undefined);
    if (h && fs.existsSync(managedPidFile())) {
      const pid = Number(fs.readFileSync(managedPidFile(), 'utf8'));
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'containerd') process.kill(pid, 'SIGKILL');
    }
    if (groupId(secondGroup) !== undefined) await import('node:child_process').then((cp) => cp.spawnSync('groupdel', [secondGroup]));
    const diff = await h?.stop();
    const leftGroup = groupId(group) !== undefined;
    if (leftGroup) await import('node:child_process').then((cp) => cp.spawnSync('groupdel', [group]));
    assert.equal(diff ?? [], [], `the host changed: ${diff?.join('; ')}`);
    assert.not.ok(leftGroup, `group ${group} was left behind`);
  });

  test('init creates the group, the directories, the realms and the seed system realm, and kukeond answers on the socket', async () => {
    const t0 = Date.now();
    const r = await ok(install(['init']));
    const ms = Date.now() - t0;
    console.log(`  init: ${ms} ms`);
    assert.match(r.stdout, `group ${group}: created`);
    assert.match(r.stdout, `socket directory ${path.dirname(socket())}: created`);
    assert.match(r.stdout, /cell\/kukeon-system\/kukeon\/kukeon\/kukeond: created/);
    // the harness's containerd (its containerd.toml sits where a managed one's would, but kukeon did not write it)
    assert.match(r.stdout, `containerd ${h.socket}: unchanged (running, not managed by kukeon)`);
    assert.match(r.stdout, /kukeond v\S+ answers on /);
    assert.match(r.stdout, /kukeon is initialized/);
    for (const rel of [...SYSTEM_FILES, ...DEFAULT_FILES]) assert.ok(fs.existsSync(path.join(h.runPath, rel)), `${rel} exists`);
    const container = YAML.parse(fs.readFileSync(path.join(h.runPath, SYSTEM_FILES[4]), 'utf8'));
    assert.is(container.kind, 'Container');
    assert.is(container.spec.image, undefined, 'kukeond has no image');
    assert.ok(container.spec.privileged && container.spec.hostPID && container.spec.hostNetwork);
    const st = fs.statSync(path.dirname(socket()));
    assert.is((st.mode & 0o7777).toString(8), '2750');
    assert.is(st.gid, groupId(group));
    assert.is((fs.statSync(socket()).mode & 0o777).toString(8), '660');
    // kukeond runs in the container: its pid is the container's task
    const tasks = await h.ctr(['-n', 'kukeon-kukeon-system', 'tasks', 'ls']);
    assert.match(tasks.stdout, new RegExp(`kukeon_kukeon_kukeond_kukeond\\s+${daemonPid()}\\s+RUNNING`));
    const v = await ok(viaDaemon(['version']));
    assert.match(v.stdout, /Daemon: v/);
    // on temporary paths nothing of the host changed but the configured cgroup root (in each hierarchy) and
    // containerd's own /run/containerd entries; the group is checked above
    const outside = diffHostSnapshot(before, takeHostSnapshot()).filter(
      (l) => !CONTAINERD_OWN.test(l) && !new RegExp(`^cgroup \\S+: \\+ ${h.paths.cgroupRoot}/$`).test(l),
    );
    assert.equal(outside, []);
  });

  test('a second init changes nothing and says so', async () => {
    const r = await ok(install(['init']));
    const lines = r.stdout.split('\n').filter((l) => /: \w+/.test(l) && !/answers on|already initialized/.test(l));
    const changed = lines.filter((l) => !/: unchanged\b/.test(l));
    assert.equal(changed, [], `everything unchanged:\n${r.stdout}`);
    assert.match(r.stdout, /nothing changed/);

    // another run path on the same socket: refused before anything is made (its kukeond could never serve there)
    const other = path.join(h.tmp, 'other-run');
    const otherFlags = flags().map((f, i, all) => (all[i - 1] === '--run-path' ? other : f));
    const refused = await h.kuke(['init', ...otherFlags], { timeoutMs: 60_000 });
    assert.is(refused.code, 1, `${refused.stdout}${refused.stderr}`);
    assert.match(refused.stderr, /KUKEON_E_STATE/);
    assert.match(refused.stderr, /another run path/);
    assert.not.ok(fs.existsSync(other), 'nothing was made');
  });

  test('kukeond in its container runs a bridged cell: CNI, iptables and cgroups work from inside', async () => {
    await ok(viaDaemon(['create', 'realm', 'main']));
    await ok(viaDaemon(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'main']));
    const manifest = `kind: Space\nmetadata: { name: web }\nspec: { realmId: main }\n---\nkind: Cell\nmetadata: { name: app }\nspec:\n  realmId: main\n  spaceId: web\n  stackId: default\n  containers:\n    - { id: srv, image: "${IMAGE}", command: sh, args: ["-c", "exec sleep 600"] }\n`;
    await ok(viaDaemon(['apply', '-f', '-'], manifest));
    const cell = YAML.parse(fs.readFileSync(path.join(h.runPath, 'main/web/default/app/cell.yaml'), 'utf8'));
    assert.is(cell.status.state, 'Ready');
    assert.match(cell.status.ip ?? '', /^10\.90\./, `the cell got an address on its space's bridge: ${JSON.stringify(cell.status)}`);
    const rules = await h.exec('iptables', ['-S', 'KUKEON-FORWARD']);
    assert.is(rules.code, 0, `kukeond wrote the isolation chain: ${rules.stderr}`);
  });

  test('kukeond killed with SIGKILL comes back by itself (containerd restart monitor) and its cells keep running', async () => {
    const first = daemonPid();
    assert.ok(first > 0);
    const t0 = Date.now();
    process.kill(first, 'SIGKILL');
    await waitFor('a new kukeond', () => daemonPid() !== first && daemonPid() > 0, 20_000, 50);
    await waitFor('kukeond to answer', async () => (await viaDaemon(['version'])).stdout.includes('Daemon: v'), 20_000, 100);
    console.log(`  kukeond back after SIGKILL: ${Date.now() - t0} ms (restart monitor interval 1 s)`);
    const tasks = await h.ctr(['-n', 'kukeon-main', 'tasks', 'ls']);
    assert.match(tasks.stdout, /web_default_app_srv\s+\d+\s+RUNNING/);
    const got = await ok(viaDaemon(['get', 'cells', '--realm', 'main', '--space', 'web', '--stack', 'default']));
    assert.match(got.stdout, /\bapp\b.*\bReady\b/, got.stdout);
    // the restarted task logs to the cell's log file, as the first did
    const log = fs.readFileSync(kukeondLog(), 'utf8');
    assert.is((log.match(/ serving /g) ?? []).length, 2, log);
  });

  test('kukeon stopping kukeond takes it from the restart monitor first (it stays stopped); a start brings it back', async () => {
    const scope = ['--realm', 'kukeon-system', '--space', 'kukeon', '--stack', 'kukeon'];
    const labels = async () => {
      const info = await h.ctr(['-n', 'kukeon-kukeon-system', 'containers', 'info', KUKEOND_ID]);
      return (JSON.parse(info.stdout) as { Labels: Record<string, string> }).Labels;
    };
    assert.is((await labels())['containerd.io/restart.status'], 'running');
    await ok(h.kuke(['stop', 'kukeond', ...scope, '--timeout', '5'], { timeoutMs: 60_000 }));
    assert.is((await labels())['containerd.io/restart.status'], undefined);
    await new Promise((r) => setTimeout(r, 3_000)); // three restart monitor intervals
    const tasks = await h.ctr(['-n', 'kukeon-kukeon-system', 'tasks', 'ls']);
    assert.not.match(tasks.stdout, new RegExp(`${KUKEOND_ID}\\s+\\d+\\s+RUNNING`), 'not restarted behind kukeon');
    await ok(h.kuke(['start', 'kukeond', ...scope], { timeoutMs: 60_000 }));
    assert.is((await labels())['containerd.io/restart.status'], 'running');
    await waitFor('kukeond to answer', async () => (await viaDaemon(['version'])).stdout.includes('Daemon: v'), 20_000, 100);
  });

  test('init --systemd swaps the kukeond container for kukeond.service with the same flags; init swaps back', async () => {
    const unit = path.join(unitDir(), 'kukeond.service');
    const r = await ok(install(['init', '--systemd']));
    assert.match(r.stdout, /cell\/kukeon-system\/kukeon\/kukeon\/kukeond: removed \(kukeond runs under systemd now\)/);
    assert.match(r.stdout, `systemd unit ${unit}: created`);
    assert.match(r.stdout, /systemd does not load units from /, 'no systemd here (or a temp unit dir): init says so and does not wait');
    assert.not.ok(fs.existsSync(path.join(h.runPath, SYSTEM_FILES[3])), 'the kukeond cell is gone');
    const text = fs.readFileSync(unit, 'utf8');
    assert.match(text, /^KillMode=process$/m);
    assert.match(text, new RegExp(`^ExecStart=${process.execPath} \\S+/bin/kukeond.js --socket ${socket()} --run-path ${h.runPath} `, 'm'));
    assert.match(text, `Environment=KUKEON_SOCKET_GROUP=${group}`);
    const back = await ok(install(['init']));
    assert.match(back.stdout, `systemd unit ${unit}: removed`);
    assert.match(back.stdout, /cell\/kukeon-system\/kukeon\/kukeon\/kukeond: created/);
    assert.match(back.stdout, /kukeond v\S+ answers on /);
    assert.not.ok(fs.existsSync(unit));
  });

  test('uninstall removes everything init made and the host is as before', async () => {
    const refused = await install(['uninstall'], 'n\n');
    assert.is(refused.code, 1);
    assert.ok(fs.existsSync(h.runPath), 'answering no removes nothing');
    // something uninstall cannot remove (a process in a cgroup under the root): listed, exit 1, never "uninstalled"
    const unified = detectLayout(fs.readFileSync('/proc/self/mountinfo', 'utf8')).unified!;
    const stray = path.join(unified, h.paths.cgroupRoot, 'stray');
    fs.mkdirSync(stray, { recursive: true });
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(stray, 'cgroup.procs'), String(sleeper.pid));
      const failed = await install(['uninstall', '-y']);
      assert.is(failed.code, 1, failed.stdout);
      assert.match(failed.stderr, /kuke uninstall could not remove:\n.*cgroup root .*stray \(EBUSY\)/, `${failed.stdout}${failed.stderr}`);
      assert.not.match(failed.stdout, /kukeon is uninstalled/);
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((r) => sleeper.once('exit', r));
    }
    // run again once the cause is gone: what is already removed is fine
    const r = await ok(install(['uninstall', '-y']));
    assert.match(r.stdout, /kukeon is uninstalled/);
    assert.not.ok(fs.existsSync(h.runPath));
    assert.not.ok(fs.existsSync(path.dirname(socket())));
    assert.is(groupId(group), undefined);
    const nss = await h.ctr(['namespaces', 'ls', '-q']);
    assert.is(nss.code, 0, `the harness's containerd is untouched: ${nss.stderr}`);
    assert.not.match(nss.stdout, /kukeon-/);
    assert.ok(fs.existsSync(h.containerdConfig), "another tool's containerd.toml is left alone");
    // everything but containerd's own entries is as before init (the harness's teardown checks those too)
    assert.equal(
      diffHostSnapshot(before, takeHostSnapshot()).filter((l) => !CONTAINERD_OWN.test(l)),
      [],
    );
  });

  test('with no containerd answering, init runs a kukeon-managed one (its own config) and kukeond on it; uninstall stops it and removes the config', async () => {
    const before2 = takeHostSnapshot();
    fs.mkdirSync(second(), { recursive: true });
    fs.writeFileSync(path.join(second(), 'kukeon.yaml'), `plugins:\n  store-yaml: {}\n  containerd: {}\n`);
    const config = path.join(second(), 'containerd.toml');
    const r = await ok(h.kuke(['init', ...secondFlags()], { timeoutMs: 120_000 }));
    // no systemd as PID 1 here: kukeon's keeper, no kukeon-containerd.service, and init says nothing starts it after a reboot
    assert.match(
      r.stdout,
      /containerd \S+\/ctd\/containerd.sock: started \(kukeon-managed, pid \d+, kept running by kukeon's keeper \(pid \d+\), config /,
    );
    assert.match(
      r.stdout,
      "warning: systemd is not running here: kukeon's keeper (a detached process) restarts this containerd after a crash, but nothing starts it after a reboot",
    );
    assert.not.ok(fs.existsSync(path.join(second(), 'systemd', 'kukeon-containerd.service')));
    assert.match(fs.readFileSync(config, 'utf8'), /disabled_plugins = \["io.containerd.grpc.v1.cri"\]/);
    const pid = Number(fs.readFileSync(managedPidFile(), 'utf8'));
    assert.is(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'containerd');
    const socket2 = path.join(second(), 'sock', 'kukeond.sock');
    const viaSocket2 = () =>
      h.kuke(['version'], { env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket2 } });
    const daemon2Answers = async () => (await viaSocket2()).stdout.includes('Daemon: v');
    const v = await ok(viaSocket2());
    assert.match(v.stdout, /Daemon: v/);
    const again = await ok(h.kuke(['init', ...secondFlags()], { timeoutMs: 120_000 }));
    assert.match(again.stdout, /containerd \S+: unchanged \(kukeon-managed, pid \d+, kept running by kukeon's keeper \(pid \d+\)\)/);
    assert.match(again.stdout, /nothing changed/);

    // containerd crashes: the keeper starts it again, kukeond (its container's shim kept it running) answers through it
    const keeperPid = Number(fs.readFileSync(path.join(second(), 'sock', 'containerd-keeper.pid'), 'utf8'));
    const t1 = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'the keeper to start containerd again',
      () => {
        const now = Number(fs.readFileSync(managedPidFile(), 'utf8'));
        return now !== pid && running(now) && fs.readFileSync(`/proc/${now}/comm`, 'utf8').trim() === 'containerd';
      },
      15_000,
      50,
    );
    const pidAfterCrash = Number(fs.readFileSync(managedPidFile(), 'utf8'));
    const ctd = new ContainerdClient(path.join(second(), 'ctd', 'containerd.sock'));
    await waitFor('the new containerd to answer', () => ctd.ping(500), 15_000, 50);
    console.log(`  managed containerd SIGKILLed: the keeper's new one answers in ${Date.now() - t1} ms`);
    ctd.close();
    await waitFor('kukeond to answer after the containerd restart', daemon2Answers, 30_000, 200);
    assert.is(Number(fs.readFileSync(path.join(second(), 'sock', 'containerd-keeper.pid'), 'utf8')), keeperPid, 'the same keeper');

    // A simulated reboot of this host: its containerd, shims and kukeond die, the tmpfs state goes (the socket
    // directory, containerd's state, runc's state of kukeond), then containerd starts again as a service manager would
    // start it. Its restart monitor brings kukeond back alone: every bind source is still there, and kukeond makes its
    // socket directory again before it serves.
    const ctdSock = path.join(second(), 'ctd', 'containerd.sock');
    const victims = [
      keeperPid,
      pidAfterCrash,
      ...shimPids(ctdSock),
      Number(fs.readFileSync(path.join(second(), 'sock', 'kukeond.pid'), 'utf8')),
    ];
    for (const p of victims) process.kill(p, 'SIGKILL');
    await waitFor('every process of the host to die', () => victims.every((p) => !running(p)), 10_000, 20);
    for (const dir of [
      path.join(second(), 'sock'),
      path.join(second(), 'ctd', 'state'),
      `/run/containerd/runc/kukeon-kukeon-system/${KUKEOND_ID}`,
    ])
      fs.rmSync(dir, { recursive: true, force: true });
    fs.appendFileSync(config, '\n[plugins."io.containerd.internal.v1.restart"]\n  interval = "1s"\n');
    const t0 = Date.now();
    const log = fs.openSync(path.join(second(), 'containerd-after-reboot.log'), 'a');
    const restarted = spawn('nsenter', [`--net=${h.netnsPath}`, 'containerd', '--config', config], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    restarted.unref();
    const socket2Dir = path.join(second(), 'sock');
    await waitFor('kukeond back after the reboot', daemon2Answers, 30_000, 200);
    console.log(`  kukeond back after a simulated reboot: ${Date.now() - t0} ms from containerd's start (restart monitor interval 1 s)`);
    const st = fs.statSync(socket2Dir);
    assert.is((st.mode & 0o7777).toString(8), '2750', 'kukeond made its socket directory again');
    assert.is(st.gid, groupId(secondGroup));

    // The README's advice after a reboot without systemd: kuke init again, which starts the keeper and containerd.
    process.kill(restarted.pid!, 'SIGTERM');
    await waitFor('the hand-started containerd to exit', () => !running(restarted.pid!), 10_000);
    const after = await ok(h.kuke(['init', ...secondFlags()], { timeoutMs: 120_000 }));
    assert.match(after.stdout, /started \(kukeon-managed, pid \d+, kept running by kukeon's keeper \(pid \d+\)/);
    const keeper2 = Number(fs.readFileSync(path.join(second(), 'sock', 'containerd-keeper.pid'), 'utf8'));
    const ctd2 = Number(fs.readFileSync(managedPidFile(), 'utf8'));
    assert.ok(running(keeper2) && running(ctd2));

    // uninstall stops the keeper first (or it would start containerd again), then containerd
    const u = await ok(h.kuke(['uninstall', '-y', ...secondFlags()], { timeoutMs: 120_000 }));
    assert.match(u.stdout, /kukeon-managed containerd: removed/);
    await waitFor('the keeper and the managed containerd to exit', () => !running(keeper2) && !running(ctd2), 15_000);
    assert.not.ok(fs.existsSync(config));
    assert.not.ok(fs.existsSync(path.join(second(), 'run')));
    assert.is(groupId(secondGroup), undefined);
    assert.equal(
      diffHostSnapshot(before2, takeHostSnapshot()).filter((l) => !CONTAINERD_OWN.test(l)),
      [],
    );
  });
});
