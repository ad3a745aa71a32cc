// End to end on a private containerd: the security fields of a container, checked from inside the container (what
// its processes can do) and from /proc on the host (uid, capabilities, seccomp mode of its pid); in-process and
// through kukeond; and the containerd plugin's allowPrivileged: false.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { hostDevices } from '../plugins/containerd/host-devices';
import { E2EHarness } from './e2e/harness';
import { idle } from './e2e/idle';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { buildBusyboxOciFile } from './helpers/busybox-oci';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { ociSchemaDir, ociSpecValidator } from './helpers/oci-schema';
import { procStatus } from './helpers/proc-status';
import { waitFor } from './helpers/wait-for';

const IMAGE = 'docker.io/kukeon/busybox:test';
const NS = 'kukeon-main';

/** A cell with one container `app` running `script`, then `done`, then sleeping (so /proc shows its process). */
function cell(name: string, fields: Record<string, unknown>, script: string, realm = 'main'): string {
  const app = { id: 'app', image: IMAGE, command: 'sh', args: ['-c', `${script}; echo done; ${idle()}`], ...fields };
  return `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: ${realm}
  spaceId: blog
  stackId: wp
  containers:
    - ${JSON.stringify(app)}
`;
}

const CAP_NET_RAW = 13n;
const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;
const has = (hex: string, bit: bigint) => ((BigInt(`0x${hex}`) >> bit) & 1n) === 1n;

e2eSuite('security fields on containerd', (test) => {
  let h: E2EHarness;
  let client: ContainerdClient;
  let archive: string;
  let daemon: Daemon | undefined;

  const ok = async (args: string[], input?: string, run = (a: string[], i?: string) => h.kuke(a, { input: i, timeoutMs: 60_000 })) => {
    const r = await run(args, input);
    assert.is(r.code, 0, `kuke ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const containerStatus = (runPath: string, realm: string, cellName: string) =>
    YAML.parse(fs.readFileSync(path.join(runPath, realm, 'blog/wp', cellName, 'containers', 'app.yaml'), 'utf8')).status;

  /** Applies the cell and returns the container's log once it printed `done`, and its pid. */
  const run = async (
    name: string,
    fields: Record<string, unknown>,
    script: string,
    via: { kuke?: (a: string[], i?: string) => Promise<RunResult>; runPath?: string; realm?: string } = {},
  ): Promise<{ log: string; pid: number }> => {
    await ok(['apply', '-f', '-'], cell(name, fields, script, via.realm), via.kuke);
    const st = containerStatus(via.runPath ?? h.runPath, via.realm ?? 'main', name);
    await waitFor(
      `${name} to finish its checks`,
      () => fs.existsSync(st.logPath) && /^done$/m.test(fs.readFileSync(st.logPath, 'utf8')),
      20_000,
    );
    return { log: fs.readFileSync(st.logPath, 'utf8'), pid: st.pid };
  };
  const specOf = async (cellName: string, leaf = 'app') => {
    const c = await client.containers.get(NS, `blog_wp_${cellName}_${leaf}`);
    return JSON.parse(Buffer.from(c.spec!.value as Uint8Array).toString('utf8'));
  };

  test.before(async () => {
    h = await E2EHarness.start({ name: 'security' });
    client = new ContainerdClient(h.socket);
    archive = await buildBusyboxOciFile(h.tmp);
    await ok(['create', 'realm', 'main']);
    await ok(['image', 'load', archive, '--realm', 'main']);
  });

  test.after(async () => {
    await daemon?.kill();
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test("the default seccomp profile (Docker's) blocks unshare of a user namespace; seccomp=unconfined allows it; CAP_SYS_ADMIN opens it", async () => {
    const probe = 'unshare -U true && echo unshare=ok || echo unshare=refused';
    const confined = await run('sec-default', {}, probe);
    assert.match(confined.log, 'unshare=refused');
    assert.match(confined.log, /Operation not permitted/);
    assert.is(procStatus(confined.pid).Seccomp, '2', 'a seccomp filter is installed');
    assert.is(procStatus(confined.pid).NoNewPrivs, '1', 'no-new-privileges is on by default');
    const spec = await specOf('sec-default');
    assert.is(spec.linux.seccomp.defaultAction, 'SCMP_ACT_ERRNO');
    assert.ok(spec.linux.seccomp.architectures.length > 0, 'the host architecture is named');
    // the cell's synthesized root (the pause process) is confined as well, as podman's infra container
    const rootPid = YAML.parse(fs.readFileSync(path.join(h.runPath, 'main/blog/wp/sec-default/cell.yaml'), 'utf8')).status.root.pid;
    assert.is(procStatus(rootPid).Seccomp, '2');

    const unconfined = await run('sec-unconfined', { securityOpts: ['seccomp=unconfined', 'no-new-privileges=false'] }, probe);
    assert.match(unconfined.log, 'unshare=ok');
    assert.is(procStatus(unconfined.pid).Seccomp, '0');
    assert.is(procStatus(unconfined.pid).NoNewPrivs, '0', 'no-new-privileges=false turns it off');
    assert.is((await specOf('sec-unconfined')).linux.seccomp, undefined);

    const admin = await run('sec-admin', { capabilities: { add: ['SYS_ADMIN'] } }, probe);
    assert.match(admin.log, 'unshare=ok', "the profile allows unshare to a container with CAP_SYS_ADMIN, as Docker's does");
    assert.is(procStatus(admin.pid).Seccomp, '2');
  });

  test('a custom profile file: seccomp=<path>', async () => {
    const profile = path.join(h.tmp, 'deny-mkdir.json');
    fs.writeFileSync(
      profile,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
      }),
    );
    const r = await run('sec-custom', { securityOpts: [`seccomp=${profile}`] }, 'mkdir /tmp/x && echo mkdir=ok || echo mkdir=refused');
    assert.match(r.log, 'mkdir=refused');
    assert.match(r.log, /Permission denied/, 'the profile errno (EACCES)');
    const missing = await h.kuke(['apply', '-f', '-'], {
      input: cell('sec-missing', { securityOpts: ['seccomp=/nonexistent/p.json'] }, 'true'),
    });
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /field spec\.containers\[0\]\.securityOpts\[0\].*\/nonexistent\/p\.json does not exist/);
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main/blog/wp/sec-missing')), 'refused before anything was stored');
  });

  test('capabilities: dropping NET_RAW makes ping fail; an added NET_ADMIN works', async () => {
    const ping = 'ping -c 1 -W 1 127.0.0.1 2>&1; echo ping-exit=$?';
    const base = await run('cap-default', {}, `${ping}; ip link set lo mtu 65536 && echo netadmin=ok || echo netadmin=refused`);
    assert.not.match(base.log, /permission denied|Operation not permitted.*socket|socket.*not permitted/i);
    assert.match(base.log, 'netadmin=refused', 'NET_ADMIN is not in the default set');
    assert.ok(has(procStatus(base.pid).CapEff, CAP_NET_RAW));
    assert.not.ok(has(procStatus(base.pid).CapEff, CAP_NET_ADMIN));

    const dropped = await run('cap-drop', { capabilities: { drop: ['NET_RAW'] } }, ping);
    assert.match(dropped.log, /permission denied|not permitted/i, dropped.log);
    assert.match(dropped.log, /ping-exit=[1-9]/);
    assert.not.ok(has(procStatus(dropped.pid).CapEff, CAP_NET_RAW));
    assert.not.ok(has(procStatus(dropped.pid).CapBnd, CAP_NET_RAW));

    const added = await run(
      'cap-add',
      { capabilities: { add: ['cap_net_admin'] } },
      'ip link set lo mtu 65536 && echo netadmin=ok || echo netadmin=refused',
    );
    assert.match(added.log, 'netadmin=ok');
    assert.ok(has(procStatus(added.pid).CapEff, CAP_NET_ADMIN));

    const none = await run('cap-none', { capabilities: { drop: ['ALL'] } }, 'true');
    assert.is(procStatus(none.pid).CapEff, '0000000000000000');
  });

  test('user: nobody runs as 65534 from the image /etc/passwd; uid:gid as given; an unknown name is an error naming the field', async () => {
    const r = await run('user-nobody', { user: 'nobody' }, 'echo uid=$(id -u) gid=$(id -g)');
    assert.match(r.log, 'uid=65534 gid=65534');
    assert.match(procStatus(r.pid).Uid, /^65534\s/);
    // the primary gid leads the supplementary groups, as Docker and containerd set them
    assert.is(procStatus(r.pid).Groups.trim(), '65534');
    const named = await run('user-pair', { user: 'nobody:root' }, 'echo uid=$(id -u) gid=$(id -g)');
    assert.match(named.log, 'uid=65534 gid=0');
    const numeric = await run('user-numeric', { user: '1234:4321' }, 'echo uid=$(id -u) gid=$(id -g)');
    assert.match(numeric.log, 'uid=1234 gid=4321');
    const bad = await h.kuke(['apply', '-f', '-'], { input: cell('user-ghost', { user: 'ghost' }, 'true') });
    assert.is(bad.code, 1);
    assert.match(
      bad.stderr,
      /field spec\.containers\[0\]\.user .*: spec\.containers\[0\]\.user "ghost": no user "ghost" in the image's \/etc\/passwd/,
    );
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main/blog/wp/user-ghost')), 'refused before anything was stored');
    const badGroup = await h.kuke(['apply', '-f', '-'], { input: cell('user-ghost-group', { user: 'nobody:ghosts' }, 'true') });
    assert.is(badGroup.code, 1);
    assert.match(badGroup.stderr, /no group "ghosts" in the image's \/etc\/group/);
  });

  test('readOnlyRootFilesystem refuses a write to /; a tmpfs path stays writable', async () => {
    const r = await run(
      'ro-root',
      { readOnlyRootFilesystem: true, tmpfs: ['/scratch'] },
      'touch /written 2>&1; echo root-write=$?; touch /scratch/a && echo tmpfs-write=ok; grep " /scratch " /proc/mounts',
    );
    assert.match(r.log, /Read-only file system/);
    assert.match(r.log, /root-write=[1-9]/);
    assert.match(r.log, 'tmpfs-write=ok');
    assert.match(r.log, /tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec/);
  });

  test('devices: a host device node appears with its type and numbers, and the cgroup grants only the given permissions', async () => {
    const node = path.join(h.tmp, 'devs', 'kdev');
    fs.mkdirSync(path.dirname(node), { recursive: true });
    execFileSync('mknod', [node, 'c', '240', '7']); // a major no driver has here: an allowed open gives ENXIO
    const r = await run(
      'dev-r',
      { devices: [{ path: node, permissions: 'r' }, '/dev/zero'] },
      `ls -l ${node}; cat ${node} 2>&1; echo read=$?; echo x 2>&1 > ${node}; echo write=$?; head -c 4 /dev/zero | wc -c`,
    );
    assert.match(r.log, /^c[rw-]{9}\s.*240,\s+7\s/m, 'a character device 240:7');
    assert.match(r.log, /No such device or address/, 'reading passed the device cgroup (no driver answers)');
    assert.match(r.log, /Operation not permitted/, 'writing was refused by the device cgroup');
    assert.match(r.log, /write=[1-9]/);
    const spec = await specOf('dev-r');
    assert.ok(
      spec.linux.devices.some((d: { path: string; major: number; minor: number }) => d.path === node && d.major === 240 && d.minor === 7),
    );
    assert.ok(spec.linux.resources.devices.some((d: { major: number; access: string }) => d.major === 240 && d.access === 'r'));
    const notDevice = await h.kuke(['apply', '-f', '-'], { input: cell('dev-bad', { devices: ['/etc/hostname'] }, 'true') });
    assert.is(notDevice.code, 1);
    assert.match(notDevice.stderr, /spec\.containers\[0\]\.devices\[0\]: \/etc\/hostname is not a character or block device/);
  });

  test("privileged: every capability of the host, no seccomp, no masked paths, the host's devices", async () => {
    const r = await run('priv', { privileged: true }, 'ls /dev; cat /proc/kcore >/dev/null 2>&1; echo kcore=$?');
    const st = procStatus(r.pid);
    assert.is(st.CapEff, procStatus(process.pid).CapBnd, "the host's bounding set");
    assert.ok(has(st.CapEff, CAP_SYS_ADMIN));
    assert.is(st.Seccomp, '0');
    const listed = new Set(r.log.split('\n'));
    for (const d of hostDevices().filter((x) => path.dirname(x.path) === '/dev'))
      assert.ok(listed.has(path.basename(d.path)), `${d.path} in /dev`);
    const spec = await specOf('priv');
    assert.equal(spec.linux.maskedPaths, []);
    assert.is(spec.linux.seccomp, undefined);
  });

  test("hostPID: the container is in the host's PID namespace and sees the host's processes", async () => {
    const r = await run('host-pid', { hostPID: true }, `test -d /proc/${process.pid} && echo sees-test-process`);
    assert.is(fs.readlinkSync(`/proc/${r.pid}/ns/pid`), fs.readlinkSync('/proc/self/ns/pid'));
    assert.match(r.log, 'sees-test-process');
    const own = await run('own-pid', {}, `test -d /proc/${process.pid} && echo sees-test-process || echo own-namespace`);
    assert.match(own.log, 'own-namespace');
  });

  test('every spec generated here validates against the OCI runtime-spec schema', async () => {
    const dir = ociSchemaDir();
    if (!dir) {
      if (process.env.KUKEON_E2E === 'required') assert.unreachable('KUKEON_OCI_SCHEMA_DIR is not set');
      console.log('SKIP OCI schema check: KUKEON_OCI_SCHEMA_DIR is not set');
      return;
    }
    const validate = ociSpecValidator(dir);
    const containers = await client.containers.list(NS, ['labels."kukeon.io/realm"==main']);
    assert.ok(containers.length >= 20, `roots and workloads to check (${containers.length})`);
    for (const c of containers) {
      const spec = JSON.parse(Buffer.from(c.spec!.value as Uint8Array).toString('utf8'));
      assert.equal(validate(spec), [], `${c.id}: ${validate(spec).join('; ')}`);
    }
  });

  test('through kukeond: the same user, capabilities, root and seccomp; the same errors', async () => {
    const socket = path.join(h.tmp, 'd', 'kukeond.sock');
    const runPath = path.join(h.tmp, 'daemon-state');
    daemon = await startDaemon({ socket, runPath, config: h.configFile });
    const viaDaemon = (args: string[], input?: string) =>
      h.kuke(args, { input, timeoutMs: 60_000, env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket } });
    // its own realm (and containerd namespace): the in-process one keeps its cells
    await ok(['create', 'realm', 'remote'], undefined, viaDaemon);
    await ok(['image', 'load', archive, '--realm', 'remote'], undefined, viaDaemon);
    const r = await run(
      'remote',
      { user: 'nobody', capabilities: { drop: ['NET_RAW'] }, readOnlyRootFilesystem: true },
      'echo uid=$(id -u); touch /x 2>&1; unshare -U true || echo unshare=refused',
      { kuke: viaDaemon, runPath, realm: 'remote' },
    );
    assert.match(r.log, 'uid=65534');
    assert.match(r.log, /Read-only file system/);
    assert.match(r.log, 'unshare=refused');
    assert.is(procStatus(r.pid).Seccomp, '2');
    assert.not.ok(has(procStatus(r.pid).CapBnd, CAP_NET_RAW));
    const bad = await viaDaemon(['apply', '-f', '-'], cell('remote-ghost', { user: 'ghost' }, 'true', 'remote'));
    assert.is(bad.code, 1);
    assert.match(bad.stderr, /spec\.containers\[0\]\.user "ghost": no user "ghost"/);
  });

  test('allowPrivileged: false refuses privileged, hostPID, devices and added capabilities by field and setting, in-process and through kukeond', async () => {
    await daemon?.stop();
    daemon = undefined;
    h.writeConfig({ containerd: { socket: h.socket, allowPrivileged: false } });
    const socket = path.join(h.tmp, 'd2', 'kukeond.sock');
    daemon = await startDaemon({ socket, runPath: path.join(h.tmp, 'daemon-state-2'), config: h.configFile });
    const viaDaemon = (args: string[], input?: string) =>
      h.kuke(args, { input, timeoutMs: 60_000, env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket } });
    const inProcess = (args: string[], input?: string) => h.kuke(args, { input, timeoutMs: 60_000 });
    try {
      for (const [fields, field] of [
        [{ privileged: true }, 'privileged'],
        [{ hostPID: true }, 'hostPID'],
        [{ devices: ['/dev/zero'] }, 'devices'],
        [{ capabilities: { add: ['NET_ADMIN'] } }, 'capabilities.add[0]'],
      ] as const) {
        for (const [how, kuke] of [
          ['in-process', inProcess],
          ['kukeond', viaDaemon],
        ] as const) {
          const r = await kuke(['apply', '-f', '-'], cell('forbidden', fields, 'true'));
          assert.is(r.code, 1, `${how} ${field}: ${r.stderr}`);
          assert.match(r.stderr, `field spec.containers[0].${field}`);
          assert.match(r.stderr, /allowPrivileged is false.*\[KUKEON_E_FORBIDDEN\]/);
        }
      }
      assert.not.ok(fs.existsSync(path.join(h.runPath, 'main/blog/wp/forbidden')), 'nothing was written');
      // a cell stored before the setting changed does not start with its privileges either
      const restart = await inProcess(['restart', 'priv', '--realm', 'main', '--space', 'blog', '--stack', 'wp', '--timeout', '0']);
      assert.is(restart.code, 1, restart.stderr);
      assert.match(restart.stderr, /containers\.app\.privileged is forbidden on this host/);
      // what stays allowed under the setting
      const r = await run('allowed', { capabilities: { drop: ['ALL'], add: ['CHOWN'] }, user: 'nobody' }, 'id -u');
      assert.match(r.log, '65534');
    } finally {
      h.writeConfig();
    }
  });
});
