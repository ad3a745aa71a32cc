import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { containerdId, labelFilter, labelsFor, namespaceOf } from '../plugins/containerd/naming';
import { PAUSE_PATH, hardNofile, processArgs, runtimeSpec } from '../plugins/containerd/oci-spec';
import { hostsFile } from '../plugins/containerd/etc-files';

const CELL = ['main', 'blog', 'wp', 'web'];

test('containerd ids are readable when they fit 76 characters, else k- and 16 hex digits of a hash', () => {
  assert.is(containerdId(CELL, 'nginx'), 'blog_wp_web_nginx');
  assert.is(containerdId(CELL, 'root'), 'blog_wp_web_root');
  const long = ['r', 'a'.repeat(30), 'b'.repeat(30), 'c'.repeat(10)];
  const id = containerdId(long, 'worker');
  assert.match(id, /^k-[0-9a-f]{16}$/);
  assert.is(containerdId(long, 'worker'), id, 'stable');
  assert.is.not(containerdId(long, 'other'), id);
  assert.is.not(containerdId(['r2', ...long.slice(1)], 'worker'), id, 'the realm is part of the hash');
  const edge = ['r', 'a'.repeat(30), 'b'.repeat(30), 'c'.repeat(12)];
  assert.is(containerdId(edge, 'w').length, 76);
  assert.is(containerdId(edge, 'w'), `${'a'.repeat(30)}_${'b'.repeat(30)}_${'c'.repeat(12)}_w`);
  assert.match(containerdId(edge, 'ww'), /^k-/);
});

test('namespaces, labels and label filters', () => {
  assert.is(namespaceOf('main'), 'kukeon-main');
  assert.is(
    namespaceOf('main', { apiVersion: 'v1beta1', kind: 'Realm', metadata: { name: 'main' }, spec: { namespace: 'shared' } }),
    'shared',
  );
  assert.equal(labelsFor(CELL, 'nginx', 'workload'), {
    'kukeon.io/realm': 'main',
    'kukeon.io/space': 'blog',
    'kukeon.io/stack': 'wp',
    'kukeon.io/cell': 'web',
    'kukeon.io/container': 'nginx',
    'kukeon.io/role': 'workload',
  });
  assert.is(labelFilter(['main', 'blog']), 'labels."kukeon.io/realm"==main,labels."kukeon.io/space"==blog');
});

test('command replaces the entrypoint and args the cmd, as Kubernetes does', () => {
  const image = { Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'] };
  assert.equal(processArgs({ id: 'a' }, image), ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
  assert.equal(processArgs({ id: 'a', args: ['nginx'] }, image), ['/docker-entrypoint.sh', 'nginx']);
  assert.equal(processArgs({ id: 'a', command: 'sh' }, image), ['sh']);
  assert.equal(processArgs({ id: 'a', command: 'sh', args: ['-c', 'x'] }, image), ['sh', '-c', 'x']);
  assert.throws(() => processArgs({ id: 'a' }, {}), /no entrypoint or cmd/);
});

test('the synthesized root: pause binary, own namespaces, read-only empty rootfs, no image', () => {
  const spec = runtimeSpec({
    role: 'root',
    container: undefined,
    image: undefined,
    cellPath: CELL,
    etcDir: '/x/etc',
    pauseBinary: '/usr/bin/catatonit',
    rootfsPath: '/x/rootfs',
  });
  assert.equal(spec.process!.args, [PAUSE_PATH, '-P']);
  assert.equal(spec.root, { path: '/x/rootfs', readonly: true });
  assert.equal(spec.linux!.namespaces!.map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
  assert.ok(spec.linux!.namespaces!.every((n) => !n.path));
  assert.ok(spec.mounts!.some((m) => m.destination === PAUSE_PATH && m.source === '/usr/bin/catatonit' && m.options!.includes('ro')));
  assert.is(spec.hostname, 'web');
});

test('a workload joins the root network, IPC and UTS namespaces and keeps its own PID and mount namespaces', () => {
  const spec = runtimeSpec({
    role: 'workload',
    container: { id: 'a', image: 'x', command: 'sleep', args: ['1'], env: ['FOO=user', 'PATH=/custom'], workingDir: '/srv' },
    image: { Env: ['FOO=image', 'BAR=image'], User: '1000:1001' },
    cellPath: CELL,
    etcDir: '/x/etc',
    rootPid: 4242,
  });
  const ns = Object.fromEntries(spec.linux!.namespaces!.map((n) => [n.type, n.path]));
  assert.equal(ns, { pid: undefined, mount: undefined, network: '/proc/4242/ns/net', ipc: '/proc/4242/ns/ipc', uts: '/proc/4242/ns/uts' });
  assert.is(spec.hostname, undefined, "the UTS namespace is the root's");
  const env = spec.process!.env!;
  assert.ok(
    env.includes('FOO=user') &&
      env.includes('BAR=image') &&
      env.includes('PATH=/custom') &&
      env.includes('KUKEON_CELL_NAME=web') &&
      env.includes('KUKEON_CONTAINER_ID=a'),
  );
  assert.equal(spec.process!.user, { uid: 1000, gid: 1001, additionalGids: [1001] });
  assert.is(spec.process!.cwd, '/srv');
  assert.is(spec.process!.noNewPrivileges, true);
  assert.ok(spec.process!.oomScoreAdj! >= 0);
  const nofile = spec.process!.rlimits!.find((r) => r.type === 'RLIMIT_NOFILE')!;
  assert.ok(nofile.hard <= hardNofile() && nofile.soft <= nofile.hard);
  for (const dest of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf']) {
    assert.ok(
      spec.mounts!.some((m) => m.destination === dest),
      dest,
    );
  }
  assert.ok(spec.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.is(spec.linux!.cgroupsPath, undefined, 'cgroupsPath belongs to the cgroups slot');
  assert.throws(
    () => runtimeSpec({ role: 'workload', container: { id: 'a', image: 'x', command: 'true' }, image: {}, cellPath: CELL, etcDir: '/x' }),
    /root container running first/,
  );
  assert.throws(
    () =>
      runtimeSpec({
        role: 'workload',
        container: { id: 'a', image: 'x', command: 'true' },
        image: { User: 'www-data' },
        cellPath: CELL,
        etcDir: '/x',
        rootPid: 1,
      }),
    /needs the image's \/etc\/passwd/,
    'a user name comes resolved by the caller (cell-runtime reads the image) or not at all',
  );
});

test('generated hosts file: localhost, and the cell IP once known', () => {
  assert.match(hostsFile('web'), /127\.0\.0\.1\tlocalhost/);
  assert.match(hostsFile('web', '10.90.0.5'), /10\.90\.0\.5\tweb/);
});

test.run();
