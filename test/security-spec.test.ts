// The runtime's security part of a container's OCI spec: the default seccomp filter (Docker's profile, for this
// host's architecture and the container's capabilities), capabilities add/drop, no-new-privileges, the read-only
// root, tmpfs, devices, privileged; user names resolved from an image's /etc/passwd and /etc/group.

import fs from 'node:fs';
import zlib from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_CAPS, capabilitySet } from '../plugins/containerd/capability-set';
import { needsEtcFiles, resolveExecUser } from '../plugins/containerd/exec-user';
import type { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { readImageEtcFiles } from '../plugins/containerd/image-etc-files';
import { declaredDevice } from '../plugins/containerd/host-devices';
import { privilegedCaps, runtimeSpec } from '../plugins/containerd/oci-spec';
import type { SpecInput } from '../plugins/containerd/oci-spec';
import { defaultSeccompProfile, kernelAtLeast, seccompFilter } from '../plugins/containerd/seccomp';
import type { OciSeccomp } from '../plugins/containerd/seccomp';
import type { ContainerSpec, KukeonError } from '../sdk';
import { ociSchemaDir, ociSpecValidator } from './helpers/oci-schema';
import { writeTar } from './helpers/tar-writer';
import type { TarWriteEntry } from './helpers/tar-writer';

const CELL = ['main', 'blog', 'wp', 'web'];
const generated: unknown[] = [];

function spec(container: Partial<ContainerSpec>, extra: Partial<SpecInput> = {}) {
  const s = runtimeSpec({
    role: 'workload',
    container: { id: 'app', image: 'x', command: 'sh', ...container },
    image: {},
    cellPath: CELL,
    etcDir: '/x/etc',
    rootPid: 42,
    ...extra,
  });
  generated.push(s);
  return s;
}

const seccompOf = (s: { linux?: Record<string, unknown> }) => s.linux!.seccomp as OciSeccomp | undefined;
/** Whether the filter lets `name` through unconditionally (an ALLOW rule without argument checks). */
const allows = (f: OciSeccomp, name: string) => f.syscalls!.some((r) => r.action === 'SCMP_ACT_ALLOW' && r.names.includes(name) && !r.args);

test("every workload gets Docker's default seccomp profile: errno by default, an allow-list, this host's architectures", () => {
  const f = seccompOf(spec({}))!;
  assert.is(f.defaultAction, 'SCMP_ACT_ERRNO');
  assert.is(f.defaultErrnoRet, 1, 'EPERM, as Docker');
  for (const ok of ['read', 'write', 'openat', 'execve', 'clone', 'exit_group'])
    assert.ok(
      f.syscalls!.some((r) => r.names.includes(ok)),
      ok,
    );
  for (const blocked of ['unshare', 'keyctl', 'add_key', 'mount', 'setns', 'kexec_load', 'init_module', 'bpf'])
    assert.not.ok(allows(f, blocked), `${blocked} is not allowed`);
  if (process.arch === 'x64') {
    assert.equal(f.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.ok(allows(f, 'arch_prctl'));
  }
  // the synthesized root (pause) gets it too; no-new-privileges is on
  const root = runtimeSpec({
    role: 'root',
    container: undefined,
    image: undefined,
    cellPath: CELL,
    etcDir: '/e',
    pauseBinary: '/p',
    rootfsPath: '/r',
  });
  generated.push(root);
  assert.is(seccompOf(root)!.defaultAction, 'SCMP_ACT_ERRNO');
  assert.is(spec({}).process!.noNewPrivileges, true);
});

test('the profile follows the architecture, the capabilities and the kernel', () => {
  const profile = defaultSeccompProfile();
  const arm = seccompFilter(profile, DEFAULT_CAPS, 'arm64', '6.1.0');
  assert.equal(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(allows(arm, 'arm_fadvise64_64'));
  assert.not.ok(allows(arm, 'arch_prctl'));
  const x86 = seccompFilter(profile, DEFAULT_CAPS, 'x64', '6.1.0');
  assert.not.ok(allows(x86, 'arm_fadvise64_64'));
  // CAP_SYS_ADMIN opens mount, unshare, setns; CAP_SYS_PTRACE opens process_vm_readv's capability rule
  const admin = seccompFilter(profile, [...DEFAULT_CAPS, 'CAP_SYS_ADMIN'], 'x64', '6.1.0');
  for (const name of ['unshare', 'mount', 'setns']) assert.ok(allows(admin, name), name);
  // clone3 is refused with ENOSYS without CAP_SYS_ADMIN (so libc falls back to clone), as in Docker
  assert.ok(x86.syscalls!.some((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO' && r.errnoRet === 38));
  assert.not.ok(admin.syscalls!.some((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO'));
  // ptrace needs kernel 4.8 (before it, seccomp could be bypassed through ptrace)
  assert.ok(allows(seccompFilter(profile, DEFAULT_CAPS, 'x64', '4.8.0'), 'ptrace'));
  assert.not.ok(allows(seccompFilter(profile, DEFAULT_CAPS, 'x64', '4.4.0'), 'ptrace'));
  assert.ok(kernelAtLeast('4.8', '6.18.44-fc-v1272'));
  assert.not.ok(kernelAtLeast('5.10', '5.4.0-generic'));
  assert.ok(kernelAtLeast('5.4', '5.4.0'));
});

test('securityOpts: seccomp=unconfined removes the filter, seccomp=<path> uses the profile read, no-new-privileges is settable', () => {
  assert.is(seccompOf(spec({ securityOpts: ['seccomp=unconfined'] })), undefined);
  const custom = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  const f = seccompOf(spec({ securityOpts: ['seccomp=/etc/p.json'] }, { seccompProfile: custom }))!;
  assert.equal(f, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.throws(() => spec({ securityOpts: ['seccomp=/etc/p.json'] }), /was not read/);
  assert.is(spec({ securityOpts: ['no-new-privileges=false'] }).process!.noNewPrivileges, false);
  assert.is(spec({ privileged: true, securityOpts: ['no-new-privileges'] }).process!.noNewPrivileges, true, 'asked for, even privileged');
  assert.is(spec({ privileged: true }).process!.noNewPrivileges, false);
});

test("capabilities: add and drop over Docker's default set, names in any spelling, ALL as Docker reads it", () => {
  const all = privilegedCaps();
  const caps = (c: ContainerSpec['capabilities']) => spec({ capabilities: c }).process!.capabilities!;
  assert.equal(caps(undefined).bounding, DEFAULT_CAPS);
  const dropped = caps({ drop: ['net_raw', 'CAP_MKNOD'] });
  assert.not.ok(dropped.bounding.includes('CAP_NET_RAW'));
  assert.not.ok(dropped.effective.includes('CAP_MKNOD'));
  assert.is(dropped.bounding.length, DEFAULT_CAPS.length - 2);
  assert.ok(caps({ add: ['sys_time'] }).permitted.includes('CAP_SYS_TIME'));
  assert.equal(caps({ drop: ['ALL'], add: ['chown'] }).bounding, ['CAP_CHOWN']);
  assert.equal(caps({ drop: ['ALL'] }).bounding, []);
  assert.equal(
    capabilitySet({ id: 'a', capabilities: { add: ['ALL'], drop: ['MKNOD'] } }, all),
    all.filter((c) => c !== 'CAP_MKNOD'),
  );
  assert.equal(caps({ add: ['NET_RAW'] }).bounding, DEFAULT_CAPS, 'adding one already there changes nothing');
  // the seccomp filter sees the final set: SYS_ADMIN added opens unshare
  assert.ok(allows(seccompOf(spec({ capabilities: { add: ['SYS_ADMIN'] } }))!, 'unshare'));
});

test("privileged: every capability, no seccomp, no masked or read-only paths, every host device and the cgroup's", () => {
  const s = spec({ privileged: true, capabilities: { drop: ['ALL'] } });
  assert.equal(s.process!.capabilities!.bounding, privilegedCaps(), 'privileged wins over drop, as in Docker');
  assert.is(seccompOf(s), undefined);
  assert.equal(s.linux!.maskedPaths, []);
  assert.equal(s.linux!.readonlyPaths, []);
  assert.equal(s.linux!.resources, { devices: [{ allow: true, access: 'rwm' }] });
  const devices = s.linux!.devices as { path: string; type: string; major: number; minor: number }[];
  assert.ok(devices.some((d) => d.path === '/dev/null' && d.type === 'c' && d.major === 1 && d.minor === 3));
  assert.not.ok(devices.some((d) => d.path.startsWith('/dev/pts/') || d.path === '/dev/console'));
});

test('readOnlyRootFilesystem, tmpfs, devices and hostPID', () => {
  const s = spec({
    readOnlyRootFilesystem: true,
    tmpfs: ['/run', '/var/cache/'],
    devices: ['/dev/zero', { path: '/dev/null', permissions: 'rw' }],
    hostPID: true,
  });
  assert.equal(s.root, { path: 'rootfs', readonly: true });
  assert.equal(spec({}).root, { path: 'rootfs', readonly: false });
  const tmpfs = s.mounts!.filter((m) => m.type === 'tmpfs' && ['/run', '/var/cache'].includes(m.destination));
  assert.equal(
    tmpfs.map((m) => [m.destination, m.options]),
    [
      ['/run', ['nosuid', 'nodev', 'noexec']],
      ['/var/cache', ['nosuid', 'nodev', 'noexec']],
    ],
  );
  const zero = fs.statSync('/dev/zero');
  assert.equal(s.linux!.devices, [
    { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: zero.mode & 0o777, uid: zero.uid, gid: zero.gid },
    { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: fs.statSync('/dev/null').mode & 0o777, uid: 0, gid: 0 },
  ]);
  assert.equal(s.linux!.resources, {
    devices: [
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
    ],
  });
  assert.not.ok(
    s.linux!.namespaces!.some((n) => n.type === 'pid'),
    'hostPID: no pid namespace',
  );
  const e = (() => {
    try {
      declaredDevice('/etc/hostname', 'spec.containers[0].devices[0]');
    } catch (err) {
      return err as KukeonError;
    }
  })();
  assert.is(e?.details.field, 'spec.containers[0].devices[0]');
  assert.match(e!.message, '/etc/hostname is not a character or block device');
  assert.throws(() => declaredDevice('/nonexistent/dev', 'f'), /cannot be read on this host \(ENOENT\)/);
});

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nwheel:x:10:app,root\naudio:x:29:app\nstaff:x:50:\n';

test("user: names and numbers from the image's /etc/passwd and /etc/group, as Docker resolves them", () => {
  const files = { passwd: PASSWD, group: GROUP };
  const u = (user: string) => resolveExecUser(user, files, 'spec.containers[0].user');
  assert.equal(u('nobody'), { uid: 65534, gid: 65534, additionalGids: [65534] }, 'the primary gid leads the groups');
  assert.equal(u('app'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29] }, "supplementary groups from /etc/group's member lists");
  assert.equal(u('app:staff'), { uid: 1000, gid: 50, additionalGids: [50] }, 'an explicit group: no other supplementary groups (runc)');
  assert.equal(u('app:app'), { uid: 1000, gid: 1000, additionalGids: [1000] });
  assert.equal(u('1000'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29] }, 'a uid in passwd takes its entry');
  assert.equal(u('4242'), { uid: 4242, gid: 0, additionalGids: [0] }, "a uid not in passwd: gid 0, as Docker's");
  assert.equal(u('4242:77'), { uid: 4242, gid: 77, additionalGids: [77] });
  assert.equal(u('nobody:0'), { uid: 65534, gid: 0, additionalGids: [0] });
  assert.equal(resolveExecUser(undefined, {}, 'f'), { uid: 0, gid: 0, additionalGids: [0] });
  for (const [user, msg] of [
    ['ghost', /spec\.containers\[0\]\.user "ghost": no user "ghost" in the image's \/etc\/passwd/],
    ['app:ghosts', /no group "ghosts" in the image's \/etc\/group/],
  ] as const) {
    try {
      u(user);
      assert.unreachable(user);
    } catch (err) {
      assert.is((err as KukeonError).code, 'KUKEON_E_INVALID');
      assert.is((err as KukeonError).details.field, 'spec.containers[0].user');
      assert.match((err as Error).message, msg);
    }
  }
  assert.throws(() => resolveExecUser('app', {}, 'f'), /the image has no \/etc\/passwd/);
  assert.equal(
    [undefined, 'root', '0', '1:2', 'nobody', '1000', '1:app'].map(needsEtcFiles),
    [false, false, false, false, true, true, true],
    'the image is read only when a name or a bare uid needs it',
  );
  // the resolved user is the process's
  assert.equal(spec({ user: 'app' }, { user: { uid: 1000, gid: 1000, additionalGids: [10] } }).process!.user, {
    uid: 1000,
    gid: 1000,
    additionalGids: [10],
  });
  assert.equal(spec({ user: '7:8' }).process!.user, { uid: 7, gid: 8, additionalGids: [8] });
});

test("the image's /etc files: the topmost layer that has one or whites it out decides", async () => {
  // layers bottom to top, as a manifest lists them; gzip and plain tar both read
  const layers: TarWriteEntry[][] = [
    [
      { type: 'file', name: 'etc/passwd', data: 'root:x:0:0::/:/bin/sh\nold:x:5:5::/:/bin/sh\n' },
      { type: 'file', name: 'etc/group', data: 'root:x:0:\n' },
    ],
    [{ type: 'file', name: 'etc/passwd', data: 'root:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n' }],
    [{ type: 'file', name: 'etc/.wh.group', data: '' }],
  ];
  const blobs = new Map(layers.map((l, i) => [`sha256:${i}`, i % 2 ? zlib.gzipSync(writeTar(l)) : writeTar(l)]));
  const client = {
    content: {
      readJson: async () => ({
        layers: [...blobs.keys()].map((digest) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest })),
      }),
      readChunks: async function* (_ns: string, digest: string) {
        yield blobs.get(digest)!;
      },
    },
  } as unknown as ContainerdClient;
  const files = await readImageEtcFiles(client, 'ns', 'sha256:m');
  assert.match(files.passwd!, /^app:/m, 'the upper layer wins');
  assert.not.match(files.passwd!, /^old:/m);
  assert.is(files.group, undefined, 'whited out above the layer that had it');
  assert.equal(resolveExecUser('app', files, 'f'), { uid: 1000, gid: 1000, additionalGids: [1000] });
});

test('every spec generated here validates against the OCI runtime-spec schema (KUKEON_OCI_SCHEMA_DIR)', () => {
  const dir = ociSchemaDir();
  if (!dir) {
    console.log('SKIP OCI schema check: KUKEON_OCI_SCHEMA_DIR is not set');
    return;
  }
  const validate = ociSpecValidator(dir);
  assert.ok(generated.length > 10, `${generated.length} specs`);
  for (const s of generated) assert.equal(validate(s), [], validate(s).join('; '));
});

test.run();
