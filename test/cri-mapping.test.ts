// api-cri's translations, without a backend: CRI names and ids to kukeon's, a pod sandbox to its cell, a CRI
// container to its Container document, image names, and the CRI log format.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { criContainerDoc } from '../plugins/api-cri/container-doc';
import { CriLogWriter } from '../plugins/api-cri/cri-log';
import { type SeenContainer, containerEventOf } from '../plugins/api-cri/container-events';
import { CriRecords } from '../plugins/api-cri/cri-records';
import { appliedCriResources, criResources } from '../plugins/api-cri/cri-resources';
import { byIdPrefix, kukeonName, spaceName } from '../plugins/api-cri/cri-names';
import { normalizeImageName, splitName } from '../plugins/api-cri/image-names';
import { podCell } from '../plugins/api-cri/pod-cell';
import { parseNetDev, podNetworkUsage } from '../plugins/api-cri/pod-network-stats';
import { nameProblem } from '../src/host/validation/names';
import { validateDocument } from '../src/host/validation/validate-document';
import { isKukeonError } from '../sdk';
import type { WatchEvent } from '../sdk';
import { tmpDir } from './helpers/tmp';

const ID = 'a1b2c3d4e5f6'.padEnd(64, '0');
const CELL = ['k8s', 'default', 'pods', 'web-a1b2c3d4'];

test('CRI names become valid, readable kukeon names that keep the id apart', () => {
  assert.is(kukeonName('PodSandbox-for-create_container_1', ID), 'podsandbox-for-create-container-1-a1b2c3d4');
  assert.is(kukeonName('___', ID), 'c-a1b2c3d4');
  const long = kukeonName('x'.repeat(200), ID);
  assert.is(long.length, 63);
  for (const n of [long, kukeonName('Ünïcode pod', ID), kukeonName('-a-', ID)]) assert.is(nameProblem(n), undefined, n);
  assert.is(spaceName('kube-system'), 'kube-system');
  assert.is(spaceName(''), 'default');
  assert.is(spaceName('Team_A'), 'team-a');
});

test('an id is found by itself or a unique prefix, never by an ambiguous one', () => {
  const m = new Map([
    ['abc123', 1],
    ['abd456', 2],
  ]);
  assert.is(byIdPrefix(m, 'abc123'), 1);
  assert.is(byIdPrefix(m, 'abd'), 2);
  assert.is(byIdPrefix(m, 'ab'), undefined);
  assert.is(byIdPrefix(m, ''), undefined);
});

test('image names are normalised as docker stores them', () => {
  assert.is(normalizeImageName('busybox'), 'docker.io/library/busybox:latest');
  assert.is(normalizeImageName('library/busybox:1.28'), 'docker.io/library/busybox:1.28');
  assert.is(normalizeImageName('registry.k8s.io/pause:3.6'), 'registry.k8s.io/pause:3.6');
  assert.is(normalizeImageName('localhost:5000/x'), 'localhost:5000/x:latest');
  assert.is(normalizeImageName('gcr.io/a/b@sha256:00'), 'gcr.io/a/b@sha256:00');
  assert.equal(splitName('127.0.0.1:5000/a/b:1'), { repository: '127.0.0.1:5000/a/b', tag: '1', digest: undefined });
});

test('a pod sandbox is a cell whose root is the infra container, with the pod network settings on it', () => {
  const cell = podCell(
    { realm: 'k8s', space: 'default', stack: 'pods', cell: 'web-a1b2c3d4' },
    {
      metadata: { name: 'web' },
      port_mappings: [{ protocol: 'UDP', container_port: 53, host_port: 5353, host_ip: '127.0.0.1' }, { container_port: 80 }],
    },
    'registry.k8s.io/pause:3.6',
  );
  assert.is(cell.spec.rootContainerId, 'pause');
  assert.equal(cell.spec.containers[0].ports, [
    { containerPort: 53, hostPort: 5353, protocol: 'udp', hostIP: '127.0.0.1' },
    { containerPort: 80, protocol: 'tcp' },
  ]);
  validateDocument(cell, 1, {}); // kukeon's own checks accept it
  const host = podCell(
    { realm: 'k8s', space: 's', stack: 'pods', cell: 'h' },
    { linux: { security_context: { namespace_options: { network: 'NODE', pid: 'NODE' } } } },
    'p',
  );
  assert.is(host.spec.containers[0].hostNetwork, true);
  assert.is(host.spec.containers[0].hostPID, true);
});

test("the kubelet's cgroup_parent is the cell's cgroupParent; a systemd slice and a bad path are refused", () => {
  const where = { realm: 'k8s', space: 'default', stack: 'pods', cell: 'web-a1b2c3d4' };
  const parented = podCell(where, { metadata: { name: 'web' }, linux: { cgroup_parent: '/kubepods/burstable/pod-1' } }, 'p');
  assert.is(parented.spec.cgroupParent, '/kubepods/burstable/pod-1');
  validateDocument(parented, 1, {});
  assert.is(podCell(where, { metadata: { name: 'web' }, linux: {} }, 'p').spec.cgroupParent, undefined);
  try {
    podCell(where, { linux: { cgroup_parent: 'kubepods-burstable-pod1.slice' } }, 'p');
    assert.unreachable('a slice is refused');
  } catch (err) {
    assert.ok(isKukeonError(err) && err.code === 'KUKEON_E_INVALID' && err.details?.field === 'linux.cgroup_parent', String(err));
  }
  for (const bad of ['/kubepods/../etc', 'relative/path', '/a//b', '/kube pods']) {
    try {
      validateDocument(podCell(where, { linux: { cgroup_parent: bad } }, 'p'), 1, {});
      assert.unreachable(`${bad} is refused`);
    } catch (err) {
      assert.ok(isKukeonError(err) && /spec\.cgroupParent/.test(err.message), `${bad}: ${err}`);
    }
  }
});

test("a container's CRI resources: cpu quota and period as cpu.max, shares as weight, memory; zeros are unset", () => {
  assert.equal(criResources({ cpu_quota: 20000, cpu_period: 100000, cpu_shares: 1024, memory_limit_in_bytes: 67108864 }), {
    cpu: { max: '20000 100000', weight: 39 },
    memory: { max: 67108864 },
  });
  assert.equal(criResources({ cpu_quota: 50000 }), { cpu: { max: '50000 100000' } });
  assert.is(criResources({ cpu_quota: 0, cpu_shares: 0, memory_limit_in_bytes: 0 }), undefined);
  assert.is(criResources(undefined), undefined);
  // ContainerStatus reports what is applied, as CRI numbers (int64 as strings); cpusets and hugepages are not
  assert.equal(appliedCriResources({ cpu_quota: 50000, memory_limit_in_bytes: 1024, cpuset_cpus: '0-1' }), {
    linux: { cpu_period: '100000', cpu_quota: '50000', cpu_shares: '0', memory_limit_in_bytes: '1024' },
  });
  assert.equal(appliedCriResources({ cpu_shares: 512 }), {
    linux: { cpu_period: '0', cpu_quota: '0', cpu_shares: '512', memory_limit_in_bytes: '0' },
  });
  assert.is(appliedCriResources({ cpuset_cpus: '0' }), undefined);
});

test('container events: created, started once per pid, stopped once per run (exit or record), deleted', () => {
  const ref = { kind: 'Container' as const, path: [...CELL, 'c'] };
  const doc = (state: string, pid?: number) =>
    ({ apiVersion: 'v1beta1', kind: 'Container', metadata: { name: 'c' }, spec: { id: 'c' }, status: { state, pid } }) as never;
  const run = (events: WatchEvent[]) => {
    let seen: SeenContainer | undefined;
    const types: string[] = [];
    for (const e of events) {
      const r = containerEventOf(e, seen);
      seen = r.seen;
      if (r.type) types.push(r.type.replace(/^CONTAINER_|_EVENT$/g, ''));
    }
    return types;
  };
  const time = '2026-12-07T00:00:00Z';
  assert.equal(
    run([
      { type: 'ADDED', ref, doc: doc('Pending'), time },
      { type: 'MODIFIED', ref, doc: doc('Pending'), time },
      { type: 'MODIFIED', ref, doc: doc('Ready', 10), time },
      { type: 'MODIFIED', ref, doc: doc('Ready', 10), time },
      { type: 'EXIT', ref, exitCode: 0, time },
      { type: 'MODIFIED', ref, doc: doc('Exited'), time },
      { type: 'MODIFIED', ref, doc: doc('Ready', 11), time },
      { type: 'MODIFIED', ref, doc: doc('Stopped'), time },
      { type: 'DELETED', ref, time },
    ]),
    ['CREATED', 'STARTED', 'STOPPED', 'STARTED', 'STOPPED', 'DELETED'],
  );
  // a watch that began while the container ran: its next start and stop still count
  assert.equal(
    run([
      { type: 'MODIFIED', ref, doc: doc('Ready', 7), time },
      { type: 'EXIT', ref, exitCode: 1, time },
    ]),
    ['STARTED', 'STOPPED'],
  );
});

test("a pod's network counters come from /proc/<pid>/net/dev, loopback left out", () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:    2836      31    1    0    0     0          0         0     1042      12    3    0    0     0       0          0
`;
  assert.equal(parseNetDev(text), [{ name: 'eth0', rxBytes: '2836', rxErrors: '1', txBytes: '1042', txErrors: '3' }]);
  const own = podNetworkUsage(process.pid, '1');
  assert.ok(own && Array.isArray(own.interfaces), 'this process has a /proc/<pid>/net/dev to read');
  assert.is(podNetworkUsage(2 ** 22 + 7, '1'), undefined, 'a pid that is gone');
});

test('a CRI container is a Container document: command and args, env, user, security and mounts', () => {
  const sandbox = { linux: { security_context: { namespace_options: { network: 'NODE' } } } };
  const doc = criContainerDoc(
    CELL,
    'app-0f0f0f0f',
    {
      command: ['/bin/sh', '-c'],
      args: ['echo hi'],
      envs: [{ key: 'A', value: '1' }],
      working_dir: '/w',
      stdin: true,
      stdin_once: true,
      linux: {
        resources: { cpu_quota: 50_000, cpu_period: 100_000, memory_limit_in_bytes: 64 << 20 },
        security_context: {
          run_as_user: { value: '1000' },
          run_as_group: { value: '3000' },
          capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] },
          no_new_privs: true,
          readonly_rootfs: true,
          seccomp: { profile_type: 'RuntimeDefault' },
        },
      },
    },
    'docker.io/library/busybox:latest',
    sandbox,
  );
  const s = doc.spec;
  assert.is(s.command, '/bin/sh');
  assert.equal(s.args, ['-c', 'echo hi']);
  assert.equal(s.env, ['A=1']);
  assert.is(s.user, '1000:3000');
  assert.equal(s.capabilities, { add: ['NET_ADMIN'], drop: ['ALL'] });
  assert.equal(s.securityOpts, ['no-new-privileges=true']); // RuntimeDefault: kukeon's default profile
  assert.is(s.readOnlyRootFilesystem, true);
  assert.is(s.hostNetwork, true);
  assert.equal(s.resources, { cpu: { max: '50000 100000' }, memory: { max: 64 << 20 } });
  assert.equal([s.attachable, s.terminal, s.stdin, s.stdinOnce], [true, false, true, true]);
  assert.is(s.restartPolicy, 'never');
  // args alone keep the image's entrypoint
  assert.equal(criContainerDoc(CELL, 'c', { args: ['x'] }, 'i', {}).spec.args, ['x']);
  assert.is(criContainerDoc(CELL, 'c', { args: ['x'] }, 'i', {}).spec.command, undefined);
});

test("CRI's seccomp defaults and names map to kukeon's security options; a bad one is refused", () => {
  const opts = (sc: object) => criContainerDoc(CELL, 'c', { linux: { security_context: sc } }, 'i', {}).spec.securityOpts;
  assert.equal(opts({}), ['no-new-privileges=false', 'seccomp=unconfined']); // CRI's default: unconfined, no nnp
  assert.equal(opts({ seccomp_profile_path: 'runtime/default' }), ['no-new-privileges=false']);
  assert.equal(opts({ seccomp_profile_path: 'localhost//p.json' }), ['no-new-privileges=false', 'seccomp=/p.json']);
  assert.equal(opts({ seccomp: { profile_type: 'Localhost', localhost_ref: '/q.json' } }), ['no-new-privileges=false', 'seccomp=/q.json']);
  assert.equal(opts({ privileged: true }), ['no-new-privileges=false']);
  assert.throws(
    () => opts({ seccomp_profile_path: 'p.json' }),
    (e: unknown) => isKukeonError(e) && e.code === 'KUKEON_E_INVALID',
  );
  assert.throws(
    () => opts({ run_as_group: { value: '5' } }),
    (e: unknown) => isKukeonError(e) && e.details.field === 'linux.security_context.run_as_group',
  );
});

test('bind mounts resolve the host path through symlinks and are made when missing', () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'real'));
  fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
  const doc = criContainerDoc(
    CELL,
    'c',
    { mounts: [{ container_path: '/m', host_path: path.join(dir, 'link'), readonly: true }] },
    'i',
    {},
  );
  assert.equal(doc.spec.volumes, [{ kind: 'bind', source: path.join(dir, 'real'), target: '/m', readOnly: true, ensure: true }]);
});

test('the CRI log: one line per stream and line, partial lines joined, long ones split, reopen after rotation', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'c.log');
  const w = new CriLogWriter(file);
  const enc = new TextEncoder();
  w.write('stdout', enc.encode('hel'));
  w.write('stderr', enc.encode('oops\n'));
  w.write('stdout', enc.encode('lo\nwor'));
  fs.renameSync(file, `${file}.1`);
  w.reopen();
  w.write('stdout', enc.encode('x'.repeat(16 * 1024 + 3)));
  w.end();
  const lines = (f: string) =>
    fs
      .readFileSync(f, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => {
        const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) (.*)$/.exec(l);
        assert.ok(m, `a CRI log line: ${l.slice(0, 60)}`);
        return `${m![2]} ${m![3]} ${m![4].length > 20 ? `${m![4].length} chars` : m![4]}`;
      });
  assert.equal(lines(`${file}.1`), ['stderr F oops', 'stdout F hello']);
  assert.equal(lines(file), ['stdout P 16384 chars', 'stdout F xxxxxx']); // 'wor' + 16,387 x: 16,384 then 6
});

test("the daemon's records forget a pod another process deleted (an in-process kuke delete drops the files)", async () => {
  const dir = tmpDir('cri-records-');
  const daemon = new CriRecords(dir);
  daemon.load();
  const pod = { id: ID, path: CELL, config: { metadata: { name: 'web' } }, runtimeHandler: '', createdAt: 1 };
  const other = { ...pod, id: 'f'.repeat(64), path: [...CELL.slice(0, 3), 'db-ffffffff'] };
  const ctr = { id: 'c'.repeat(64), sandboxId: ID, path: [...CELL, 'w'], config: {}, image: 'i', imageRef: 'sha256:x', createdAt: 2 };
  await daemon.putSandbox(pod);
  await daemon.putSandbox(other);
  await daemon.putContainer(ctr);
  daemon.forgetRemoved();
  assert.equal([...daemon.sandboxes.keys()].sort(), [other.id, ID].sort(), 'nothing removed: nothing forgotten');
  const kuke = new CriRecords(dir);
  kuke.load();
  await kuke.dropCell(CELL);
  assert.is(daemon.sandboxes.size, 2, 'the daemon still remembers until it looks');
  daemon.forgetRemoved();
  assert.equal([...daemon.sandboxes.keys()], [other.id]);
  assert.is(daemon.containers.size, 0, "the pod's container is forgotten too");
  fs.rmSync(dir, { recursive: true, force: true });
});

test.run();
