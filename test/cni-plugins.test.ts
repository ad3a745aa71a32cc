// The CNI execution protocol against the REAL plugin binaries (Debian's containernetworking-plugins in
// /usr/lib/cni): ADD, prevResult chaining into portmap, CHECK, DEL, VERSION, error objects, a missing binary,
// and kukeon's isolation rules with real traffic. Safety: every plugin runs inside a "host" network namespace this
// test creates (entered with `nsenter --net`), the cells are namespaces it creates, IPAM data and caches live in a
// temp dir; traffic goes only between those namespaces. The machine-wide e2e lock keeps other suites' host
// snapshots away, and the host snapshot must be unchanged at the end.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { Ipv4Cidr } from '../sdk';
import type { KukeonError } from '../sdk';
import { CniError } from '../plugins/cni/cni-error';
import { attachmentOf } from '../plugins/cni/cni-result';
import type { CniResult } from '../plugins/cni/cni-result';
import { CniRunner } from '../plugins/cni/cni-runner';
import type { AttachParams } from '../plugins/cni/cni-runner';
import { buildConflist } from '../plugins/cni/conflist';
import { HostCommand } from '../plugins/cni/host-command';
import { Isolation } from '../plugins/cni/isolation';
import { spaceNetworkNames } from '../plugins/cni/naming';
import { FileLocks } from '../src/host/file-locks';
import { runCommand } from './e2e/harness';
import { acquireMachineLock } from './e2e/machine-lock';
import { diffHostSnapshot, takeHostSnapshot } from './e2e/host-snapshot';
import type { HostSnapshot } from './e2e/host-snapshot';
import { e2eSuite } from './e2e/requirements';
import { tmpDir } from './helpers/tmp';

const CNI_BIN = '/usr/lib/cni';
const PLUGINS = ['bridge', 'host-local', 'portmap'];

e2eSuite('cni plugins (real binaries)', (test) => {
  const id = randomBytes(3).toString('hex');
  const hostNs = `kc-${id}`;
  const cellNs = { a: `kc-${id}-a`, b: `kc-${id}-b`, c: `kc-${id}-c` };
  const made: string[] = [];
  const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
  const inNs = (ns: string, cmd: string[], timeoutMs = 10_000) => runCommand('nsenter', [`--net=/run/netns/${ns}`, ...cmd], { timeoutMs });
  let before: HostSnapshot;
  let releaseLock: (() => Promise<void>) | undefined;
  let tmp = '';
  let runner: CniRunner;
  const netA = { realm: 't', space: `s${id}`, subnet: '10.90.200.0/24' };
  const netC = { realm: 't', space: `o${id}`, subnet: '10.90.201.0/24' };
  const listOf = (n: typeof netA) => {
    const names = spaceNetworkNames(n.realm, n.space);
    const cidr = Ipv4Cidr.parse(n.subnet)!;
    return {
      names,
      cidr,
      text: buildConflist({
        network: names.network,
        bridge: names.bridge,
        subnet: n.subnet,
        gateway: cidr.host(1),
        ipamDataDir: path.join(tmp, 'ipam'),
      }),
    };
  };
  const results: Record<string, CniResult> = {};
  const params = (cell: keyof typeof cellNs, ports: unknown[] = []): AttachParams => ({
    containerId: `t_cell_${cell}`,
    netns: `/run/netns/${cellNs[cell]}`,
    ifname: 'eth0',
    capabilityArgs: { portMappings: ports },
  });
  const PORTS = [{ hostPort: 18081, containerPort: 80, protocol: 'tcp' }];

  test.before(async () => {
    const missing = PLUGINS.filter((p) => !fs.existsSync(path.join(CNI_BIN, p)));
    if (missing.length) throw new Error(`CNI plugins missing in ${CNI_BIN}: ${missing.join(', ')}`);
    releaseLock = await acquireMachineLock();
    before = takeHostSnapshot();
    tmp = tmpDir('kukeon-cni-plugins-');
    for (const ns of [hostNs, ...Object.values(cellNs)]) {
      const r = ip('netns', 'add', ns);
      assert.is(r.status, 0, r.stderr);
      made.push(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    runner = new CniRunner({ binDirs: [CNI_BIN], prefix: ['nsenter', `--net=/run/netns/${hostNs}`] });
  });

  test.after(async () => {
    try {
      for (const ns of made.reverse()) ip('netns', 'del', ns);
      if (before) {
        const diff = diffHostSnapshot(before, takeHostSnapshot());
        // ip netns add may have created /run/netns itself (with a self bind mount): undo only that
        if (
          diff.some((d) => d.startsWith('/run/netns: appeared')) &&
          fs.existsSync('/run/netns') &&
          fs.readdirSync('/run/netns').length === 0
        ) {
          for (let i = 0; i < 4 && fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(' /run/netns '); i++)
            spawnSync('umount', ['/run/netns']);
          fs.rmdirSync('/run/netns');
        }
        const left = diffHostSnapshot(before, takeHostSnapshot());
        assert.equal(left, [], `the host changed: ${left.join('; ')}`);
      }
    } finally {
      await releaseLock?.();
    }
  });

  test('VERSION: the bridge plugin speaks CNI 1.0.0', async () => {
    assert.ok((await runner.versions('bridge')).includes('1.0.0'));
  });

  test('ADD through bridge and portmap: addresses from the subnet, eth0 in the cell, lease on disk, bridge only in our host namespace', async () => {
    const { names, cidr, text } = listOf(netA);
    const list = CniRunner.parseList(text);
    results.a = await runner.add(list, params('a', PORTS));
    results.b = await runner.add(list, params('b'));
    const a = attachmentOf(results.a, 'eth0')!;
    const b = attachmentOf(results.b, 'eth0')!;
    for (const x of [a, b]) {
      assert.ok(cidr.contains(Ipv4Cidr.parseAddress(x.ip)!), x.ip);
      assert.is(x.gateway, cidr.host(1));
      assert.match(x.hostInterface!, /^veth/);
    }
    assert.is.not(a.ip, b.ip);
    assert.is(results.a.interfaces!.find((i) => i.name === 'eth0')!.sandbox, `/run/netns/${cellNs.a}`);
    assert.match(ip('-n', cellNs.a, '-4', 'addr', 'show', 'eth0').stdout, `inet ${a.address}`);
    const lease = path.join(tmp, 'ipam', names.network, a.ip);
    assert.match(fs.readFileSync(lease, 'utf8'), /^t_cell_a\r?\neth0/);
    assert.is(ip('-n', hostNs, 'link', 'show', names.bridge).status, 0, 'the bridge is in our host namespace');
    assert.is.not(ip('link', 'show', names.bridge).status, 0, 'and not in the root namespace');
    // portmap received the bridge's result as prevResult and passed it on; it installed the DNAT
    const save = (await inNs(hostNs, ['iptables-save'])).stdout;
    assert.match(save, `--to-destination ${a.ip}:80`);
  });

  test('traffic: the cells reach each other and the gateway; a published port answers on the gateway', async () => {
    const a = attachmentOf(results.a, 'eth0')!;
    assert.is((await inNs(cellNs.b, ['/bin/busybox', 'ping', '-c', '1', '-W', '2', a.ip])).code, 0);
    assert.is((await inNs(cellNs.a, ['/bin/busybox', 'ping', '-c', '1', '-W', '2', a.gateway!])).code, 0);
    const out = path.join(tmp, 'received');
    // The listener hands its one connection to `cat`, which keeps all the client sends: a plain `nc -l` would see
    // its own stdin end, half-close, and a client whose stdin was not written yet would take that close as the
    // end and leave without sending (CI run of d71a909: connected, nothing received).
    const server = inNs(cellNs.a, ['/bin/busybox', 'sh', '-c', `/bin/busybox nc -l -p 80 -e /bin/busybox sh -c 'cat > ${out}'`], 8_000);
    // Retry only until a connection is accepted, and read what it received once it is gone (its write may trail
    // the client).
    let connected = false;
    for (let i = 0; i < 50 && !connected; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const c = await inNs(hostNs, ['/bin/busybox', 'sh', '-c', `echo via-portmap | /bin/busybox nc -w 1 ${a.gateway} 18081`]);
      connected = c.code === 0;
    }
    await server;
    assert.ok(connected, 'a connection to the published port was accepted');
    assert.match(fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '', 'via-portmap', 'the message went through portmap');
  });

  test('CHECK passes for a healthy attachment and fails once the host side of its veth is gone', async () => {
    const { text } = listOf(netA);
    const list = CniRunner.parseList(text);
    await runner.check(list, params('a', PORTS), results.a);
    await runner.check(list, params('b'), results.b);
    const veth = attachmentOf(results.b, 'eth0')!.hostInterface!;
    assert.is(ip('-n', hostNs, 'link', 'del', veth).status, 0);
    const e = await runner.check(list, params('b'), results.b).then(
      () => undefined,
      (err: unknown) => err as CniError,
    );
    assert.instance(e, CniError);
    assert.is(e!.plugin, 'bridge');
    assert.is(e!.command, 'CHECK');
    assert.match(e!.message, 'eth0');
  });

  test('isolation: another space cannot reach a space unless allowed; rules leave with the spaces', async () => {
    const c = listOf(netC);
    results.c = await runner.add(CniRunner.parseList(c.text), params('c'));
    const a = listOf(netA);
    const ipA = attachmentOf(results.a, 'eth0')!.ip;
    const ping = async () => (await inNs(cellNs.c, ['/bin/busybox', 'ping', '-c', '1', '-W', '1', ipA])).code === 0;
    assert.ok(await ping(), 'without rules, the host routes between the bridges');
    const iso = new Isolation(new HostCommand(['nsenter', `--net=/run/netns/${hostNs}`]), new FileLocks(path.join(tmp, 'locks')));
    const rulesA = {
      owner: `t/${netA.space}`,
      bridge: a.names.bridge,
      chain: a.names.chain,
      subnet: netA.subnet,
      allow: [] as { bridge: string; from: string }[],
      masquerade: true,
    };
    const rulesC = {
      owner: `t/${netC.space}`,
      bridge: c.names.bridge,
      chain: c.names.chain,
      subnet: netC.subnet,
      allow: [],
      masquerade: true,
    };
    await iso.apply(rulesA);
    await iso.apply(rulesC);
    await iso.apply(rulesA); // idempotent
    assert.not.ok(await ping(), 'isolated');
    assert.is(
      (await inNs(cellNs.c, ['/bin/busybox', 'ping', '-c', '1', '-W', '1', c.cidr.host(1)])).code,
      0,
      'positive control: c reaches its gateway',
    );
    await iso.apply({ ...rulesA, allow: [{ bridge: c.names.bridge, from: rulesC.owner }] });
    assert.ok(await ping(), 'allowed from c');
    const save = (await inNs(hostNs, ['iptables-save'])).stdout;
    assert.is(save.split('\n').filter((l) => l === '-A FORWARD -j KUKEON-FORWARD').length, 1, 'one jump, however often applied');
    assert.is(save.split('\n').filter((l) => l.includes(`-o ${a.names.bridge} -j ${a.names.chain}`)).length, 1);
    assert.is(save.split('\n').filter((l) => l.includes(`kukeon t/${netA.space}`) && l.includes('MASQUERADE')).length, 1);
    await iso.remove(rulesA);
    await iso.remove(rulesC);
    await iso.remove(rulesC); // absent parts are fine
    assert.not.match((await inNs(hostNs, ['iptables-save'])).stdout, 'KUKEON');
    await runner.del(CniRunner.parseList(c.text), params('c'), results.c);
  });

  test('DEL releases leases and links, with or without the namespace, and succeeds again when all is gone', async () => {
    const { names, text } = listOf(netA);
    const list = CniRunner.parseList(text);
    const a = attachmentOf(results.a, 'eth0')!;
    const b = attachmentOf(results.b, 'eth0')!;
    await runner.del(list, params('a', PORTS), results.a);
    await runner.del(list, { ...params('b'), netns: undefined }, results.b);
    await runner.del(list, params('a', PORTS), results.a);
    assert.not.ok(fs.existsSync(path.join(tmp, 'ipam', names.network, a.ip)));
    assert.not.ok(fs.existsSync(path.join(tmp, 'ipam', names.network, b.ip)));
    assert.is.not(ip('-n', cellNs.a, 'link', 'show', 'eth0').status, 0, 'eth0 is gone');
    assert.not.match((await inNs(hostNs, ['iptables-save'])).stdout, `${a.ip}:80`, 'the port mapping is gone');
  });

  test('errors: a missing binary is named before anything runs; a plugin error object is reported with its code', async () => {
    const partial = path.join(tmp, 'partial');
    fs.mkdirSync(partial);
    for (const b of ['bridge', 'host-local']) fs.symlinkSync(path.join(CNI_BIN, b), path.join(partial, b));
    const p = new CniRunner({ binDirs: [partial], prefix: ['nsenter', `--net=/run/netns/${hostNs}`] });
    const { names, text } = listOf(netA);
    const e = (await p.add(CniRunner.parseList(text), params('a', PORTS)).then(
      () => undefined,
      (err: unknown) => err,
    )) as KukeonError;
    assert.is(e.code, 'KUKEON_E_CNI');
    assert.match(e.message, `CNI plugin binary "portmap" not found in ${partial}`);
    assert.equal(
      fs.existsSync(path.join(tmp, 'ipam', names.network))
        ? fs.readdirSync(path.join(tmp, 'ipam', names.network)).filter((f) => /^\d/.test(f))
        : [],
      [],
      'no lease was taken',
    );
    const bad = CniRunner.parseList(text.replace(netA.subnet, '10.90.200.0/33'));
    const err = (await runner.add(bad, params('a')).then(
      () => undefined,
      (x: unknown) => x,
    )) as CniError;
    assert.instance(err, CniError);
    assert.is(typeof err.cniCode, 'number');
    assert.match(err.message, /CNI plugin bridge ADD failed: .*\[code \d+/);
    assert.is.not(ip('-n', cellNs.a, 'link', 'show', 'eth0').status, 0, 'the failed ADD was rolled back');
  });
});
