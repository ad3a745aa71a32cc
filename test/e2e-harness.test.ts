// The e2e harness itself: the busybox image is byte-reproducible and runs under the harness's private
// containerd, containerd lives in the harness netns, and stop() leaves the host as it found it.

import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildBusyboxOci, buildBusyboxOciFile, buildBusyboxOciImage, BUSYBOX_IMAGE_REF } from './helpers/busybox-oci';
import { readTar } from '../plugins/containerd/image/tar-reader';
import { writeTar } from './helpers/tar-writer';
import { E2EHarness } from './e2e/harness';
import { diffHostSnapshot, takeHostSnapshot } from './e2e/host-snapshot';
import { cgroupMounts, e2eSuite } from './e2e/requirements';

const NS = 'kukeon-harness';

e2eSuite('e2e-harness', (test) => {
  let h: E2EHarness | undefined;
  let work = '';

  test.before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-e2e-harness-test-'));
  });
  test.after(async () => {
    if (h) await h.stop(); // idempotent: a no-op when the last test already stopped it
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('host snapshot: stable, and differences are listed per section', () => {
    const a = takeHostSnapshot();
    const b = takeHostSnapshot();
    assert.equal(diffHostSnapshot(a, b), [], 'two snapshots in a row are equal');
    for (const key of [
      'links',
      'routes ipv4',
      'routes ipv6',
      'iptables-save',
      '/etc/cni/net.d',
      '/run/containerd',
      '/run/netns',
      'mounts',
    ]) {
      assert.ok(key in a.sections, `section ${key}`);
    }
    assert.ok(
      Object.keys(a.sections).some((k) => k.startsWith('cgroup ')),
      'cgroup sections',
    );
    assert.ok(a.sections.links!.includes('lo'), 'links lists lo');
    const before = { takenAt: '', sections: { links: ['eth0', 'lo'], '/run/netns': null, 'iptables-save': ['*filter', ':INPUT ACCEPT'] } };
    const after = { takenAt: '', sections: { links: ['eth0', 'lo', 'kt-br0'], '/run/netns': ['kt-1'], 'iptables-save': ['*filter'] } };
    assert.equal(diffHostSnapshot(before, after), ['links: + kt-br0', '/run/netns: appeared with kt-1', 'iptables-save: - :INPUT ACCEPT']);
  });

  test('tar writer: pax header for long names, sorted, deterministic', () => {
    const long = `${'d'.repeat(60)}/${'f'.repeat(60)}`;
    const entries = [
      { type: 'file' as const, name: long, data: 'x' },
      { type: 'directory' as const, name: 'd'.repeat(60) },
      { type: 'symlink' as const, name: 'a', linkname: long },
    ];
    const a = writeTar(entries, { sorted: true });
    const b = writeTar([...entries].reverse(), { sorted: true });
    assert.ok(a.equals(b), 'order of the input does not matter');
    assert.is(a.length % 512, 0);
    // read back by the product's reader: the long path (ustar prefix) and link target (pax) come out whole
    const read = readTar(a).map((e) => [e.name, e.linkname]);
    assert.equal(read, [
      ['a', long],
      ['d'.repeat(60), ''],
      [long, ''],
    ]);
    assert.ok(a.toString('latin1').includes(` linkpath=${long}\n`), 'pax linkpath record');
  });

  test('busybox image: two builds give identical bytes', async () => {
    const t0 = Date.now();
    const [a, b] = [await buildBusyboxOci(), await buildBusyboxOci()];
    assert.ok(a.equals(b), 'identical archives');
    const img = await buildBusyboxOciImage();
    assert.ok(img.archive.equals(a));
    assert.ok(img.layerEntries > 100, `layer has ${img.layerEntries} entries`);
    const file = await buildBusyboxOciFile(work);
    assert.ok(fs.readFileSync(file).equals(a), 'file written');
    assert.is(await buildBusyboxOciFile(work), file, 'cached path');
    console.log(
      `  image ${img.manifestDigest} layer ${img.layerDigest} (${a.length} bytes, ${img.layerEntries} entries) in ${Date.now() - t0} ms`,
    );
  });

  test('harness: containerd in its own netns runs the busybox image, stop() leaves no host differences', async () => {
    const t0 = Date.now();
    h = await E2EHarness.start({ name: 'harness' });
    const started = Date.now() - t0;

    // containerd answers and lives in the harness netns.
    const version = await h.ctr(['version']);
    assert.is(version.code, 0, version.stderr);
    assert.match(version.stdout, /Server:/);
    const nsIno = fs.statSync(h.netnsPath).ino;
    assert.is(fs.readlinkSync(`/proc/${h.containerdPid}/ns/net`), `net:[${nsIno}]`, 'containerd is in the harness netns');
    assert.is.not(fs.readlinkSync('/proc/self/ns/net'), `net:[${nsIno}]`, 'the test process is not');
    const links = await h.exec('ip', ['-o', 'link']);
    assert.match(links.stdout, /^1: lo: <LOOPBACK,UP/m, 'lo is up in the netns');

    // The config and env point into the temp dir.
    assert.is(fs.readFileSync(h.configFile, 'utf8'), `plugins:\n  store-yaml: {}\n  containerd:\n    socket: ${h.socket}\n`);
    assert.equal(h.env().KUKEON_CONFIG, path.join(h.tmp, 'kukeon.yaml'));
    let refused = '';
    await h.kuke(['version'], { env: { KUKEON_CONFIG: '/etc/kukeon/kukeon.yaml' } }).catch((e: Error) => (refused = e.message));
    assert.match(refused, /refusing to run kuke: KUKEON_CONFIG=\/etc\/kukeon\/kukeon.yaml/);
    await h.kuke(['version', '--run-path', '/opt/kukeon']).catch((e: Error) => (refused = e.message));
    assert.match(refused, /--run-path \/opt\/kukeon is outside/);

    // Import and run the image.
    const archive = await buildBusyboxOciFile(work);
    const imp = await h.ctr(['-n', NS, 'images', 'import', archive]);
    assert.is(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, new RegExp(`unpacking ${BUSYBOX_IMAGE_REF.replace(/[.]/g, '\\.')}`));
    const cgroup = `/${h.cgroupRoot}/c1`;
    const run = await h.ctr([
      '-n',
      NS,
      'run',
      '--rm',
      '--cgroup',
      cgroup,
      BUSYBOX_IMAGE_REF,
      'c1',
      'sh',
      '-c',
      'echo hi; cat /proc/self/cgroup; ip -o link',
    ]);
    assert.is(run.code, 0, run.stderr);
    const lines = run.stdout.split('\n').filter(Boolean);
    assert.is(lines[0], 'hi');
    assert.ok(
      lines.some((l) => l.endsWith(`:${cgroup}`)),
      `container in ${cgroup}:\n${run.stdout}`,
    );
    const ifaces = lines.filter((l) => /^\d+: /.test(l)).map((l) => /^\d+: ([^:]+):/.exec(l)?.[1]);
    assert.equal(ifaces, ['lo'], `only lo in the container:\n${run.stdout}`);

    // runc leaves the parent cgroup (cgroupRoot) behind; stop() must rmdir it.
    const leftCgroups = cgroupMounts().filter((m) => fs.existsSync(path.join(m.mountPoint, h!.cgroupRoot)));
    assert.ok(leftCgroups.length > 0, 'runc left the cgroupRoot parents (stop removes them)');

    const rm = await h.ctr(['-n', NS, 'images', 'rm', '--sync', BUSYBOX_IMAGE_REF]);
    assert.is(rm.code, 0, rm.stderr);
    const nsRm = await h.ctr(['namespaces', 'rm', NS]);
    assert.is(nsRm.code, 0, nsRm.stderr);
    const nsLs = await h.ctr(['namespaces', 'ls', '-q']);
    assert.not.match(nsLs.stdout, new RegExp(`^${NS}$`, 'm'), 'namespace removed');

    // A task still running at stop() (in another namespace) is killed by the teardown.
    const imp2 = await h.ctr(['-n', `${NS}-bg`, 'images', 'import', archive]);
    assert.is(imp2.code, 0, imp2.stderr);
    const bg = await h.ctr(['-n', `${NS}-bg`, 'run', '-d', '--cgroup', `/${h.cgroupRoot}/c2`, BUSYBOX_IMAGE_REF, 'c2', 'sleep', '300']);
    assert.is(bg.code, 0, bg.stderr);

    const tmp = h.tmp;
    const t1 = Date.now();
    const diffs = await h.stop();
    const stopped = Date.now() - t1;
    assert.equal(diffs, [], `host differences after stop:\n${diffs.join('\n')}`);
    assert.equal(await h.stop(), diffs, 'stop is idempotent');
    assert.not.ok(fs.existsSync(tmp), 'temp dir removed');
    assert.not.ok(fs.existsSync(h.netnsPath), 'netns removed');
    for (const m of cgroupMounts())
      assert.not.ok(fs.existsSync(path.join(m.mountPoint, h.cgroupRoot)), `${m.mountPoint}/${h.cgroupRoot} removed`);
    let afterStop = '';
    await h.kuke(['version']).catch((e: Error) => (afterStop = e.message));
    assert.match(afterStop, /stopped/);
    console.log(`  start ${started} ms, stop ${stopped} ms, total ${Date.now() - t0} ms`);
  });
});
