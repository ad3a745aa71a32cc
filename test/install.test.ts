// kuke init's parts that need no containerd: the system realm's fields (accepted only there), their OCI spec
// (privileged, hostPID, bind volumes, an empty rootfs), the kukeond container's mounts, the managed containerd's
// decision and config, and the systemd unit (checked with systemd-analyze verify where it exists).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isKukeonError } from '../sdk';
import { e2eRequired } from './e2e/requirements';
import { privilegedCaps, runtimeSpec } from '../plugins/containerd/oci-spec';
import { kukeondMounts, parseLdd } from '../src/host/install/kukeond-mounts';
import { chooseContainerd, renderContainerdConfig } from '../src/host/install/managed-containerd';
import type { InstallSettings } from '../src/host/install/settings';
import { kukeondContainer, systemRealmText } from '../src/host/install/system-realm';
import { renderUnit } from '../src/host/install/systemd-unit';
import type { ServiceManager } from '../src/host/install/containerd-unit';
import {
  CONTAINERD_UNIT_NAME,
  removeContainerdUnit,
  renderContainerdUnit,
  superviseManagedContainerd,
  unsupervisedWarning,
} from '../src/host/install/containerd-unit';
import { managedContainerdFiles } from '../src/host/install/managed-containerd';
import { findExecutable } from '../src/host/install/wait-daemon';
import { DaemonUnit } from '../src/host/system/daemon-unit';
import { parseManifest } from '../src/host/validation/parse-manifest';
import { validateDocument } from '../src/host/validation/validate-document';
import { KUKE_BIN, kuke } from './helpers/kuke';
import { tmpDir } from './helpers/tmp';

const settings = (root: string): InstallSettings => ({
  runPath: path.join(root, 'run'),
  configPath: path.join(root, 'etc', 'kukeon.yaml'),
  configExists: true,
  socket: path.join(root, 'sock', 'kukeond.sock'),
  group: 'kukeon',
  containerdSocket: path.join(root, 'containerd', 'containerd.sock'),
  cgroupRoot: 'kukeon',
  cni: {
    confDir: path.join(root, 'net.d'),
    binDirs: ['/usr/lib/cni'],
    cacheDir: path.join(root, 'cni'),
    ipamDataDir: path.join(root, 'ipam'),
  },
});

const cellWith = (realm: string, extra: Record<string, unknown>) => ({
  kind: 'Cell',
  metadata: { name: 'c' },
  spec: { realmId: realm, spaceId: 's', stackId: 't', containers: [{ id: 'x', command: '/bin/true', ...extra }] },
});

function code(fn: () => unknown): { code?: string; field?: string } {
  try {
    fn();
  } catch (err) {
    if (isKukeonError(err)) return { code: err.code, field: err.details.field };
    throw err;
  }
  return {};
}

test('an absent image is refused for users and accepted in the system realm; privileged, hostPID and volumes are open to all', () => {
  for (const field of ['privileged', 'hostPID'] as const)
    assert.equal(
      code(() => validateDocument(cellWith('main', { image: 'busybox', [field]: true }), 1)),
      {},
    );
  assert.equal(
    code(() => validateDocument(cellWith('main', {}), 1)),
    { code: 'KUKEON_E_INVALID', field: 'spec.containers[0].image' },
  );
  assert.equal(
    code(() => validateDocument(cellWith('kukeon-system', {}), 1, { allowSystem: true })),
    {},
  );
  const container = { kind: 'Container', metadata: { name: 'x' }, spec: { realmId: 'main', spaceId: 's', stackId: 't', cellId: 'c' } };
  assert.equal(
    code(() => validateDocument(container, 1)),
    { code: 'KUKEON_E_INVALID', field: 'spec.image' },
  );
  // volumes are open to every realm; a tmpfs takes no source
  const bind = [{ kind: 'bind', source: '/x', target: '/x' }];
  assert.equal(
    code(() => validateDocument(cellWith('main', { image: 'busybox', volumes: bind }), 1)),
    {},
  );
  const tmpfs = cellWith('kukeon-system', { volumes: [{ kind: 'tmpfs', source: '/x', target: '/x' }] });
  assert.equal(
    code(() => validateDocument(tmpfs, 1, { allowSystem: true })),
    {
      code: 'KUKEON_E_INVALID',
      field: 'spec.containers[0].volumes[0].source',
    },
  );
});

test("privileged is Docker's: the bounding set's capabilities, no masked or read-only paths, /sys rw, every device", () => {
  const spec = runtimeSpec({
    role: 'root',
    container: { id: 'kukeond', root: true, command: '/usr/bin/node', privileged: true, hostPID: true, hostNetwork: true },
    image: undefined,
    cellPath: ['kukeon-system', 'kukeon', 'kukeon', 'kukeond'],
    etcDir: '/run/etc',
    rootfsPath: '/rootfs',
    hostNetwork: true,
  });
  assert.equal(spec.process!.capabilities!.bounding, privilegedCaps());
  assert.ok(privilegedCaps().includes('CAP_SYS_ADMIN') && privilegedCaps().includes('CAP_NET_ADMIN'));
  assert.is(spec.process!.noNewPrivileges, false);
  assert.equal(spec.linux!.maskedPaths, []);
  assert.equal(spec.linux!.readonlyPaths, []);
  assert.equal(spec.linux!.resources, { devices: [{ allow: true, access: 'rwm' }] });
  assert.ok(spec.mounts!.find((m) => m.destination === '/sys')!.options!.includes('rw'));
  assert.equal(
    spec.linux!.namespaces!.map((n) => n.type),
    ['ipc', 'uts', 'mount'],
    'hostPID and hostNetwork: no pid or network namespace',
  );
  assert.equal(spec.root, { path: '/rootfs', readonly: true }, 'no image: the empty rootfs, read-only');
  // a capability the host took away (CAP_SYS_RESOURCE, bit 24) is not asked for: runc would fail the start
  assert.not.ok(privilegedCaps('CapBnd:\t000001fffeffffff\n').includes('CAP_SYS_RESOURCE'));
  assert.is(privilegedCaps('CapBnd:\t000001ffffffffff\n').length, 41);
});

test('volumes become bind mounts at their target, read-only when asked; plain containers keep the default security', () => {
  const spec = runtimeSpec({
    role: 'workload',
    container: {
      id: 'w',
      image: 'busybox',
      command: 'sh',
      volumes: [
        { kind: 'bind', source: '/srv/data', target: '/data' },
        { kind: 'bind', source: '/etc/group', target: '/etc/group', readOnly: true },
      ],
    },
    image: undefined,
    cellPath: ['main', 's', 't', 'c'],
    etcDir: '/run/etc',
    rootPid: 42,
  });
  const binds = spec.mounts!.filter((m) => m.source === '/srv/data' || m.source === '/etc/group');
  assert.equal(binds, [
    { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rslave', 'rw'] },
    { destination: '/etc/group', type: 'bind', source: '/etc/group', options: ['rbind', 'rslave', 'ro'] },
  ]);
  assert.is(spec.process!.noNewPrivileges, true);
  assert.ok(spec.linux!.maskedPaths!.length > 0);
  assert.ok(spec.linux!.namespaces!.some((n) => n.type === 'pid'));
  assert.is(spec.process!.capabilities!.bounding!.includes('CAP_SYS_ADMIN'), false);
});

test('ldd output: the libraries and the dynamic loader', () => {
  const text = [
    '\tlinux-vdso.so.1 (0x00007ffd)',
    '\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f7d)',
    '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f7d)',
    '\t/lib64/ld-linux-x86-64.so.2 (0x00007f7d)',
  ].join('\n');
  assert.equal(parseLdd(text), ['/lib/x86_64-linux-gnu/libdl.so.2', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
});

test("kukeond's mounts: Node, its libraries and loader, kukeon's files, every host path it needs; parents before children; sources exist", () => {
  const root = tmpDir('install');
  const s = settings(root);
  for (const d of [
    s.runPath,
    path.dirname(s.socket),
    path.dirname(s.containerdSocket),
    path.dirname(s.configPath),
    s.cni!.confDir,
    s.cni!.cacheDir,
    s.cni!.ipamDataDir,
  ])
    fs.mkdirSync(d, { recursive: true });
  const mounts = kukeondMounts(s);
  const targets = mounts.map((m) => m.target);
  assert.ok(targets.includes(process.execPath), 'the Node binary');
  for (const lib of parseLdd(spawnSync('ldd', [process.execPath], { encoding: 'utf8' }).stdout))
    assert.ok(targets.includes(lib), `Node's library ${lib}`);
  assert.ok(targets.includes('/lib64/ld-linux-x86-64.so.2') || process.arch !== 'x64', 'the dynamic loader');
  for (const t of [
    s.runPath,
    root,
    path.dirname(s.containerdSocket),
    path.dirname(s.configPath),
    '/sys/fs/cgroup',
    s.cni!.confDir,
    '/etc/group',
  ])
    assert.ok(targets.includes(t), `mounts ${t}`);
  assert.not.ok(targets.includes(path.dirname(s.socket)), 'not the socket directory itself: it does not survive a reboot');
  assert.ok(targets.some((t) => t.endsWith('/dist')) && targets.some((t) => t.endsWith('/node_modules')), "kukeon's files");
  if (fs.existsSync('/usr/sbin/iptables')) assert.ok(targets.includes('/usr/sbin/iptables'));
  for (const m of mounts) {
    assert.ok(m.source !== undefined && fs.existsSync(m.source), `${m.source} exists`);
    assert.is(m.source, m.target, 'host paths at the same place inside');
    const parent = mounts.findIndex((p) => m.target.startsWith(`${p.target}/`));
    if (parent >= 0) assert.ok(parent < mounts.indexOf(m), `${mounts[parent].target} is mounted before ${m.target}`);
    assert.ok(m.why.length > 0);
  }
  assert.ok(
    mounts
      .filter((m) => !m.readOnly)
      .every((m) => [s.runPath, root, '/sys/fs/cgroup', s.cni!.confDir, s.cni!.cacheDir, s.cni!.ipamDataDir].includes(m.target)),
  );
  // the documents validate as the system realm, and the container has exactly these volumes
  const docs = parseManifest(systemRealmText(s, mounts), 'init').map(({ index, data }) =>
    validateDocument(data, index, { allowSystem: true }),
  );
  assert.equal(
    docs.map((d) => d.ref.path.join('/')),
    ['kukeon-system', 'kukeon-system/kukeon', 'kukeon-system/kukeon/kukeon', 'kukeon-system/kukeon/kukeon/kukeond'],
  );
  const c = kukeondContainer(s, mounts);
  assert.ok(c.env!.includes('KUKEON_SOCKET_GROUP=kukeon') && c.env!.includes('KUKEON_CGROUP_ROOT=kukeon'), 'what init resolved, kept');
  assert.is(c.volumes!.length, mounts.length);
  assert.equal(c.args!.slice(1), [
    '--socket',
    s.socket,
    '--run-path',
    s.runPath,
    '--containerd-socket',
    s.containerdSocket,
    '--config',
    s.configPath,
  ]);
});

test('which containerd init uses: the running one, else a managed one when the binary is there and allowed', () => {
  const sock = '/run/containerd/containerd.sock';
  assert.equal(chooseContainerd({ socket: sock, answers: true, binary: '/usr/bin/containerd', noContainerd: false }), {
    use: 'existing',
    socket: sock,
  });
  assert.equal(chooseContainerd({ socket: sock, answers: false, binary: '/usr/bin/containerd', noContainerd: false }), {
    use: 'managed',
    socket: sock,
    binary: '/usr/bin/containerd',
  });
  assert.is(chooseContainerd({ socket: sock, answers: false, binary: '/usr/bin/containerd', noContainerd: true }).use, 'none');
  assert.is(chooseContainerd({ socket: sock, answers: false, binary: undefined, noContainerd: false }).use, 'none');
  const standard = renderContainerdConfig(sock);
  assert.match(standard, /^root = "\/var\/lib\/containerd"$/m);
  assert.match(standard, /^state = "\/run\/containerd"$/m);
  assert.match(standard, /disabled_plugins = \["io.containerd.grpc.v1.cri"\]/);
  assert.match(standard, /address = "\/run\/containerd\/containerd.sock"/);
  const beside = renderContainerdConfig('/tmp/k/ctd/containerd.sock');
  assert.match(beside, /^root = "\/tmp\/k\/ctd\/root"$/m, 'a test socket keeps its root beside it');
});

test('the systemd unit: KillMode=process, Delegate=yes, ExecStart with the same flags; systemd-analyze verify accepts it', () => {
  const root = tmpDir('unit');
  const s = settings(root);
  const unit = renderUnit(s);
  assert.match(unit, /^KillMode=process$/m);
  assert.match(unit, /^Delegate=yes$/m);
  assert.match(unit, new RegExp(`^ExecStart=${process.execPath} \\S+/bin/kukeond.js --socket ${s.socket} --run-path ${s.runPath} `, 'm'));
  assert.not.match(unit, /@[A-Z_]+@/, 'every placeholder is filled');
  assert.match(unit, /^Environment=KUKEON_SOCKET_GROUP=kukeon KUKEON_CGROUP_ROOT=kukeon$/m);
  const analyze = '/usr/bin/systemd-analyze';
  if (!fs.existsSync(analyze)) {
    // a missing component is a clear skip, and a failure where the run says every component is required
    assert.ok(!e2eRequired(), `${analyze} is not installed (package systemd) and KUKEON_E2E=required`);
    console.log(`  SKIP systemd-analyze verify: ${analyze} is not installed`);
    return;
  }
  const file = path.join(root, 'kukeond.service');
  fs.writeFileSync(file, unit);
  const r = spawnSync(analyze, ['verify', '--man=no', file], { encoding: 'utf8' });
  // verify also complains about other units on the host (none on a machine without systemd); only this unit's lines count
  const ours = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('kukeond.service'));
  assert.equal(ours, [], `systemd-analyze verify:\n${r.stdout}${r.stderr}`);
});

/** systemd-analyze verify of one rendered unit: its own lines (verify also speaks of other units on the host), or a clear skip. */
function verifyUnit(file: string): string[] | undefined {
  const analyze = '/usr/bin/systemd-analyze';
  if (!fs.existsSync(analyze)) {
    // a missing component is a clear skip, and a failure where the run says every component is required
    assert.ok(!e2eRequired(), `${analyze} is not installed (package systemd) and KUKEON_E2E=required`);
    console.log(`  SKIP systemd-analyze verify: ${analyze} is not installed`);
    return undefined;
  }
  const r = spawnSync(analyze, ['verify', '--man=no', file], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes(path.basename(file)));
}

test("kukeon-containerd.service: containerd's own unit's settings, our binary and config; systemd-analyze verify accepts it", () => {
  const root = tmpDir('ctd-unit');
  // verify checks that ExecStart's binary exists: the real containerd where installed, else any binary
  const binary = findExecutable('containerd') ?? process.execPath;
  const config = path.join(root, 'etc kukeon', 'containerd.toml');
  const unit = renderContainerdUnit(binary, config);
  assert.match(unit, new RegExp(`^ExecStart=${binary} --config "${config}"$`, 'm'), 'the config path quoted (it has a space)');
  for (const line of [
    'Type=notify',
    'ExecStartPre=-/sbin/modprobe overlay',
    'Restart=always',
    'RestartSec=5',
    'Delegate=yes',
    'KillMode=process',
    'LimitNOFILE=infinity',
    'Before=kukeond.service',
    'WantedBy=multi-user.target',
  ])
    assert.ok(unit.split('\n').includes(line), line);
  assert.not.match(unit, /@[A-Z_]+@/, 'every placeholder is filled');
  const file = path.join(root, CONTAINERD_UNIT_NAME);
  fs.writeFileSync(file, unit);
  const ours = verifyUnit(file);
  if (ours) assert.equal(ours, [], ours.join('\n'));
  // the check can fail: a unit verify rejects is reported
  fs.writeFileSync(file, unit.replace('KillMode=process', 'KillMode=procss'));
  const bad = verifyUnit(file);
  if (bad)
    assert.ok(
      bad.some((l) => l.includes('kill mode')),
      bad.join('\n'),
    );
});

test('the managed containerd: the unit where systemd runs (a second start leaves it unchanged), else detached with a warning; uninstall removes the unit', () => {
  const root = tmpDir('ctd-supervise');
  const files = managedContainerdFiles(path.join(root, 'etc'), path.join(root, 'sock'), path.join(root, 'run'));
  const unitDir = path.join(root, 'systemd');
  const calls: string[] = [];
  const detached: string[] = [];
  const startDetached = (binary: string) => {
    detached.push(binary);
    return 4242;
  };
  const manager = (running: boolean, fail?: string): ServiceManager => ({
    running: () => running,
    systemctl: (args) => {
      calls.push(args.join(' '));
      return fail && args[0] === fail ? 'Unit failed' : undefined;
    },
  });

  // systemd runs: the unit, enabled and started; nothing detached
  const first = superviseManagedContainerd('/usr/bin/containerd', files, unitDir, manager(true), startDetached);
  const unit = path.join(unitDir, CONTAINERD_UNIT_NAME);
  assert.equal(first, { how: 'unit', file: unit, fileAction: 'created' });
  assert.equal(fs.readdirSync(unitDir), [CONTAINERD_UNIT_NAME]);
  assert.match(fs.readFileSync(unit, 'utf8'), `ExecStart=/usr/bin/containerd --config ${files.config}\n`);
  assert.equal(calls, ['daemon-reload', `enable --now ${CONTAINERD_UNIT_NAME}`]);
  assert.equal(detached, []);
  const mtime = fs.statSync(unit).mtimeMs;
  const second = superviseManagedContainerd('/usr/bin/containerd', files, unitDir, manager(true), startDetached);
  assert.is(second.how === 'unit' && second.fileAction, 'unchanged');
  assert.is(fs.statSync(unit).mtimeMs, mtime, 'the file is not rewritten');
  assert.equal(detached, []);
  // systemctl failing is an error, never a silent detached start
  assert.throws(
    () => superviseManagedContainerd('/usr/bin/containerd', files, unitDir, manager(true, 'enable'), startDetached),
    /systemctl enable --now kukeon-containerd.service failed: Unit failed/,
  );
  assert.equal(detached, []);

  // uninstall: disabled and stopped before the file goes; a second uninstall finds nothing
  calls.length = 0;
  assert.is(removeContainerdUnit(unitDir, manager(true)), true);
  assert.equal(calls, [`disable --now ${CONTAINERD_UNIT_NAME}`, 'daemon-reload']);
  assert.equal(fs.readdirSync(unitDir), []);
  assert.is(removeContainerdUnit(unitDir, manager(true)), false);

  // no systemd: detached, no unit written, no systemctl
  calls.length = 0;
  const plain = superviseManagedContainerd('/usr/bin/containerd', files, unitDir, manager(false), startDetached);
  assert.equal(plain, { how: 'detached', pid: 4242 });
  assert.equal(detached, ['/usr/bin/containerd']);
  assert.equal(fs.readdirSync(unitDir), []);
  assert.equal(calls, []);
  const warning = unsupervisedWarning('/usr/bin/containerd', files.config);
  assert.match(
    warning,
    "kukeon's keeper (a detached process) restarts this containerd after a crash, but nothing starts it after a reboot",
  );
  assert.match(warning, 'boot with systemd');
  assert.match(warning, `/usr/bin/containerd --config ${files.config}\` under your service manager`);
});

test('kuke daemon on kukeond.service: systemctl start only when inactive, stop, restart; without systemd a clear error', () => {
  const unitDir = tmpDir('daemon-unit');
  const calls: string[] = [];
  let active = false;
  const manager = (running: boolean, fail?: string): ServiceManager => ({
    running: () => running,
    systemctl: (args) => {
      calls.push(args.join(' '));
      if (args[0] === 'is-active') return active ? undefined : '';
      return fail && args[0] === fail ? 'Unit kukeond.service failed' : undefined;
    },
  });
  const unit = new DaemonUnit(unitDir, manager(true));
  assert.is(unit.installed(), false, 'no unit: kuke daemon drives the system cell');
  fs.writeFileSync(path.join(unitDir, 'kukeond.service'), '[Service]\n');
  assert.is(unit.installed(), true);

  assert.is(unit.start(), true);
  assert.equal(calls, ['is-active --quiet kukeond.service', 'start kukeond.service']);
  active = true;
  calls.length = 0;
  assert.is(unit.start(), false, 'already running: nothing started');
  assert.equal(calls, ['is-active --quiet kukeond.service']);
  calls.length = 0;
  assert.is(unit.stop(), true);
  unit.restart();
  assert.equal(calls, ['is-active --quiet kukeond.service', 'stop kukeond.service', 'restart kukeond.service']);
  assert.equal(unit.journalArgs(true), ['-u', 'kukeond.service', '--no-pager', '-o', 'cat', '-f']);

  const failing = new DaemonUnit(unitDir, manager(true, 'restart'));
  assert.throws(
    () => failing.restart(),
    (e: unknown) => isKukeonError(e) && e.code === 'KUKEON_E_INSTALL' && /Unit kukeond.service failed/.test(e.message),
  );
  calls.length = 0;
  const noSystemd = new DaemonUnit(unitDir, manager(false));
  assert.throws(
    () => noSystemd.start(),
    (e: unknown) => isKukeonError(e) && e.code === 'KUKEON_E_STATE' && /systemd does not run here/.test(e.message),
  );
  assert.equal(calls, [], 'nothing is systemctl-ed where systemd does not run');
});

test('init and uninstall refuse a user other than root, and a bad --wait-timeout, before touching anything', () => {
  const root = tmpDir('refuse');
  const runPath = path.join(root, 'run');
  const bad = kuke(['init', '--run-path', runPath, '--socket', path.join(root, 's', 'k.sock'), '--wait-timeout', 'soon']);
  assert.is(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, '--wait-timeout must be a positive number');
  if (process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/setpriv')) {
    console.log('  SKIP the non-root refusal: needs root and setpriv');
    return;
  }
  fs.chmodSync(root, 0o755);
  for (const verb of [['init'], ['uninstall', '-y']]) {
    const r = spawnSync(
      '/usr/bin/setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, KUKE_BIN, ...verb, '--run-path', runPath],
      { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent' }, timeout: 20_000 },
    );
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, `kuke ${verb[0]} must run as root [KUKEON_E_INSTALL]`);
  }
  assert.not.ok(fs.existsSync(runPath), 'nothing was made');
});

test.run();
