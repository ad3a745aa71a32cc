// biome-ignore-all lint/suspicious/noExplicitAny: raw manifest input is walked field by field before its shape is known
// Unit tests of the cni plugin's own logic: names, IPv4 blocks, conflist generation, subnet claims (one process and
// two at once), conflist file collisions, result parsing, the plugin list protocol (against a scripted plugin) and
// the manifest fields it enables. Nothing here touches a network namespace; cni-plugins.test.ts runs the real
// binaries.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ipv4Cidr, type KukeonError } from '../sdk';
import type { Diagnosis, SpaceDoc } from '../sdk';
import { attachmentOf, parseCniResult } from '../plugins/cni/cni-result';
import { CniError } from '../plugins/cni/cni-error';
import { invokeCni } from '../plugins/cni/cni-invoke';
import { CniRunner } from '../plugins/cni/cni-runner';
import { CNI_VERSION, buildConflist } from '../plugins/cni/conflist';
import { diagnose } from '../plugins/cni/diagnose';
import { HostCommand } from '../plugins/cni/host-command';
import type { CommandResult } from '../plugins/cni/host-command';
import { readIpv4Routes } from '../plugins/cni/host-routes';
import type { Isolation, SpaceRules } from '../plugins/cni/isolation';
import { cniContainerId, parseNetworkName, spaceNetworkNames } from '../plugins/cni/naming';
import { ResultCache } from '../plugins/cni/result-cache';
import { SpaceNetworks } from '../plugins/cni/space-network';
import { SpaceRegistry } from '../plugins/cni/space-registry';
import type { ClaimRequest } from '../plugins/cni/space-registry';
import { runtimeSpec } from '../plugins/containerd/oci-spec';
import { FileLocks } from '../src/host/file-locks';
import { validateDocument } from '../src/host/validation/validate-document';
import { testHost } from './helpers/hosts';
import { tmpDir } from './helpers/tmp';

const errorOf = async (fn: () => unknown): Promise<Error> => {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
};

test('Ipv4Cidr: parses dotted quads and CIDRs, refuses the rest, overlaps and walks sub-blocks', () => {
  assert.is(Ipv4Cidr.parseAddress('10.90.1.2'), (10 << 24) + (90 << 16) + (1 << 8) + 2);
  assert.is(Ipv4Cidr.formatAddress(Ipv4Cidr.parseAddress('255.255.255.255')!), '255.255.255.255');
  for (const bad of ['10.90.1', '10.90.1.256', '010.1.1.1', '1.2.3.4.5', 'a.b.c.d', ''])
    assert.is(Ipv4Cidr.parseAddress(bad), undefined, bad);
  assert.is(Ipv4Cidr.problem('10.90.0.0/24'), undefined);
  assert.match(Ipv4Cidr.problem('10.90.0.1/24')!, 'host bits set (the network is 10.90.0.0/24)');
  assert.match(Ipv4Cidr.problem('10.90.0.0/33')!, 'above 32');
  assert.match(Ipv4Cidr.problem('10.90.0.0/31', 8, 30)!, 'between 8 and 30');
  assert.ok(Ipv4Cidr.problem('10.90.0.0'));
  assert.ok(Ipv4Cidr.problem(42));
  const pool = Ipv4Cidr.parse('10.90.0.0/16')!;
  const subs = [...pool.subnets(24)];
  assert.is(subs.length, 256);
  assert.is(subs[0].toString(), '10.90.0.0/24');
  assert.is(subs[255].toString(), '10.90.255.0/24');
  assert.ok(pool.overlaps(Ipv4Cidr.parse('10.0.0.0/8')!));
  assert.not.ok(subs[0].overlaps(subs[1]));
  assert.is(subs[1].host(1), '10.90.1.1');
  assert.ok(subs[1].contains(Ipv4Cidr.parseAddress('10.90.1.200')!));
  assert.not.ok(subs[1].contains(Ipv4Cidr.parseAddress('10.90.2.0')!));
});

test('names: network, file, bridge (kk-, at most 15 characters, distinct for names that share a file), container id', () => {
  const a = spaceNetworkNames('a-b', 'c');
  const b = spaceNetworkNames('a', 'b-c');
  assert.is(a.fileName, 'a-b-c.conflist');
  assert.is(b.fileName, a.fileName, 'the file names collide (refused at create)');
  assert.is.not(a.network, b.network);
  assert.is.not(a.bridge, b.bridge);
  assert.equal(parseNetworkName(a.network), { realm: 'a-b', space: 'c' });
  assert.equal(parseNetworkName(b.network), { realm: 'a', space: 'b-c' });
  assert.is(parseNetworkName('cbr0'), undefined);
  const long = spaceNetworkNames('r'.repeat(63), `${'s'.repeat(4)}-${'t'.repeat(58)}`);
  for (const n of [a, b, long, spaceNetworkNames('main', 'blog')]) {
    assert.ok(n.bridge.length <= 15, n.bridge);
    assert.match(n.bridge, /^kk-[a-z0-9-]*[a-z0-9]-[0-9a-f]{6}$/);
    assert.is(n.chain, `KUKEON-${n.bridge}`);
    assert.ok(n.chain.length <= 28);
  }
  assert.is(spaceNetworkNames('main', 'blog').bridge, spaceNetworkNames('main', 'blog').bridge, 'stable');
  assert.is(cniContainerId(['main', 'blog', 'wp', 'web']), 'main_blog_wp_web');
  const hashed = cniContainerId(['r'.repeat(63), 's'.repeat(63), 't'.repeat(63), 'c']);
  assert.match(hashed, /^k-[0-9a-f]{24}$/);
});

test('conflist: bridge + host-local + portmap, deterministic bytes, a valid network configuration list', () => {
  const input = {
    network: 'kukeon.main.blog',
    bridge: 'kk-blog-123456',
    subnet: '10.90.3.0/24',
    gateway: '10.90.3.1',
    ipamDataDir: '/tmp/ipam',
  };
  const text = buildConflist(input);
  assert.is(buildConflist({ ...input }), text, 'same input, same bytes');
  assert.ok(text.endsWith('}\n'));
  const list = CniRunner.parseList(text);
  assert.is(list.cniVersion, CNI_VERSION);
  assert.is(list.name, 'kukeon.main.blog');
  assert.equal(
    list.plugins.map((p) => p.type),
    ['bridge', 'portmap'],
  );
  const bridge = list.plugins[0] as Record<string, any>;
  assert.is(bridge.bridge, 'kk-blog-123456');
  assert.is(bridge.isGateway, true);
  assert.is(bridge.ipMasq, false);
  assert.equal(bridge.ipam, {
    type: 'host-local',
    ranges: [[{ subnet: '10.90.3.0/24', gateway: '10.90.3.1' }]],
    routes: [{ dst: '0.0.0.0/0' }],
    dataDir: '/tmp/ipam',
  });
  assert.equal(list.plugins[1].capabilities, { portMappings: true });
  assert.equal(CniRunner.binariesOf(list), ['bridge', 'host-local', 'portmap']);
  assert.is.not(buildConflist({ ...input, subnet: '10.90.4.0/24', gateway: '10.90.4.1' }), text);
});

test('plugin list: each plugin gets the list name and version, prevResult, and runtimeConfig only for capabilities it declares', () => {
  const list = CniRunner.parseList(
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'net',
      plugins: [
        { type: 'bridge', name: 'ignored', cniVersion: '0.3.1' },
        { type: 'portmap', capabilities: { portMappings: true, bandwidth: false } },
      ],
    }),
  );
  const caps = { portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }], bandwidth: { rate: 1 } };
  const first = CniRunner.pluginConfig(list, list.plugins[0], undefined, caps);
  assert.equal(first, { type: 'bridge', name: 'net', cniVersion: '1.0.0' });
  const prev = { cniVersion: '1.0.0', ips: [] };
  const second = CniRunner.pluginConfig(list, list.plugins[1], prev, caps);
  assert.equal(second.runtimeConfig, { portMappings: caps.portMappings });
  assert.is(second.prevResult, prev);
  for (const bad of [
    '{',
    '[]',
    '{"cniVersion":"1.0.0","name":"n","plugins":[]}',
    '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"../x"}]}',
    '{"name":"n","plugins":[{"type":"x"}]}',
  ]) {
    assert.throws(
      () => CniRunner.parseList(bad),
      (e: KukeonError) => e.code === 'KUKEON_E_CNI',
      bad,
    );
  }
});

test('results: 1.0.0 and 0.4.0 shapes read; the cell address is the sandbox interface IPv4; bad results refused', () => {
  const r100 = parseCniResult({
    cniVersion: '1.0.0',
    interfaces: [
      { name: 'kk-blog-1', mac: 'aa' },
      { name: 'veth1234', mac: 'bb' },
      { name: 'eth0', mac: 'cc', sandbox: '/proc/9/ns/net' },
    ],
    ips: [
      { interface: 2, address: 'fd00::2/64' },
      { interface: 2, address: '10.90.0.7/24', gateway: '10.90.0.1' },
    ],
  });
  assert.equal(attachmentOf(r100, 'eth0'), {
    ip: '10.90.0.7',
    address: '10.90.0.7/24',
    gateway: '10.90.0.1',
    interface: 'eth0',
    mac: 'cc',
    hostInterface: 'veth1234',
  });
  const r040 = parseCniResult({
    cniVersion: '0.4.0',
    interfaces: [{ name: 'eth0', sandbox: '/x' }],
    ips: [{ version: '4', interface: 0, address: '10.1.0.5/16' }],
  });
  assert.is(attachmentOf(r040, 'eth0')!.ip, '10.1.0.5');
  assert.is(attachmentOf(parseCniResult({ cniVersion: '1.0.0' }), 'eth0'), undefined);
  for (const bad of [
    null,
    [],
    'x',
    { interfaces: [] },
    { cniVersion: '1.0.0', ips: [{ interface: 3, address: '10.0.0.1/8' }] },
    { cniVersion: '1.0.0', ips: [{}] },
    { cniVersion: '1.0.0', interfaces: [{}] },
  ]) {
    assert.throws(
      () => parseCniResult(bad),
      (e: KukeonError) => e.code === 'KUKEON_E_CNI',
      JSON.stringify(bad),
    );
  }
});

test('host routes: /proc/net/route is read (little-endian hex), default routes left out', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'route');
  fs.writeFileSync(
    file,
    [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'vpn0\t00005A0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
      '',
    ].join('\n'),
  );
  assert.equal(
    readIpv4Routes(file).map((r) => `${r.iface} ${r.cidr}`),
    ['eth0 192.168.1.0/24', 'vpn0 10.90.0.0/16'],
  );
  assert.equal(readIpv4Routes(path.join(dir, 'missing')), []);
});

const registry = () => {
  const dir = tmpDir();
  return new SpaceRegistry(path.join(dir, 'spaces.json'), new FileLocks(path.join(dir, 'locks')));
};
const req = (owner: string, extra: Partial<ClaimRequest> = {}): ClaimRequest => ({
  owner,
  conflistPath: `/conf/${owner.replace('/', '-')}.conflist`,
  pool: '10.90.0.0/16',
  store: async () => ({ claims: [] }),
  routes: [],
  ...extra,
});

test('subnets: first free /24 of the pool, skipping held ones and host routes; kept when re-claimed; released on delete', async () => {
  const reg = registry();
  assert.is(await reg.claim(req('r/a')), '10.90.0.0/24');
  assert.is(await reg.claim(req('r/b')), '10.90.1.0/24');
  assert.is(await reg.claim(req('r/a')), '10.90.0.0/24', 'a re-claim by the same space does not move it');
  assert.is(await reg.claim(req('r/a', { previous: '10.90.0.0/24' })), '10.90.0.0/24');
  // held by a stored space the registry never saw (a lost registry), and a host route on another interface
  const stored = async () => ({ claims: [{ owner: 'x/y', subnet: '10.90.2.0/24' }] });
  const routes = [
    { iface: 'eth1', cidr: Ipv4Cidr.parse('10.90.3.0/24')! },
    { iface: 'kk-c-abcdef', cidr: Ipv4Cidr.parse('10.90.4.0/24')! },
  ];
  assert.is(
    await reg.claim(req('r/c', { store: stored, routes, bridge: 'kk-c-abcdef' })),
    '10.90.4.0/24',
    "a route through the space's own bridge is its own",
  );
  assert.is(await reg.claim(req('r/d', { store: stored, routes })), '10.90.5.0/24');
  await reg.release('r/b');
  assert.is(await reg.claim(req('r/e')), '10.90.1.0/24', 'a released subnet is free again');
  assert.equal(Object.keys(await reg.entries()).sort(), ['r/a', 'r/c', 'r/d', 'r/e']);
  // entries of spaces that are no longer stored are dropped
  assert.is(await reg.claim(req('r/f', { store: async () => ({ claims: [], existing: new Set(['r/f', 'r/e']) }) })), '10.90.0.0/24');
  assert.equal(Object.keys(await reg.entries()).sort(), ['r/e', 'r/f']);
});

test('subnets: a requested subnet must not overlap another space or a host route; a full pool says so', async () => {
  const reg = registry();
  await reg.claim(req('r/a'));
  assert.is(await reg.claim(req('r/b', { requested: '172.20.0.0/16' })), '172.20.0.0/16');
  const e = await errorOf(() => reg.claim(req('r/c', { requested: '10.90.0.128/25' })));
  assert.is((e as KukeonError).code, 'KUKEON_E_CONFLICT');
  assert.match(e.message, 'overlaps 10.90.0.0/24 of space r/a');
  const r = await errorOf(() =>
    reg.claim(req('r/c', { requested: '192.168.1.0/24', routes: [{ iface: 'eth0', cidr: Ipv4Cidr.parse('192.168.0.0/16')! }] })),
  );
  assert.match(r.message, "overlaps the host's route 192.168.0.0/16 (dev eth0)");
  const small = registry();
  assert.is(await small.claim(req('r/a', { pool: '10.91.0.0/23' })), '10.91.0.0/24');
  assert.is(await small.claim(req('r/b', { pool: '10.91.0.0/23' })), '10.91.1.0/24');
  const full = await errorOf(() => small.claim(req('r/c', { pool: '10.91.0.0/23' })));
  assert.is((full as KukeonError).code, 'KUKEON_E_CONFLICT');
  assert.match(full.message, 'no free /24 left in the subnet pool 10.91.0.0/23');
});

test('conflist files: a second space mapping to the same file is refused', async () => {
  const reg = registry();
  await reg.claim(req('a-b/c', { conflistPath: '/conf/a-b-c.conflist' }));
  const e = await errorOf(() => reg.claim(req('a/b-c', { conflistPath: '/conf/a-b-c.conflist' })));
  assert.is((e as KukeonError).code, 'KUKEON_E_CONFLICT');
  assert.match(e.message, 'space a/b-c would write /conf/a-b-c.conflist, which space a-b/c already uses');
  // bridges too (a hash collision is not expected, but it is refused, never shared)
  const reg2 = registry();
  await reg2.claim(req('r/one', { bridge: 'kk-x-123456' }));
  const eb = await errorOf(() => reg2.claim(req('r/two', { bridge: 'kk-x-123456' })));
  assert.is((eb as KukeonError).code, 'KUKEON_E_CONFLICT');
  assert.match(eb.message, 'bridge kk-x-123456, which space r/one already uses');
  // also when only the store knows the holder
  const e2 = await errorOf(() =>
    registry().claim(
      req('a/b-c', {
        conflistPath: '/conf/x.conflist',
        store: async () => ({ claims: [{ owner: 'q/r', conflistPath: '/conf/x.conflist' }] }),
      }),
    ),
  );
  assert.is((e2 as KukeonError).code, 'KUKEON_E_CONFLICT');
});

function runNode(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (c) => resolve({ code: c ?? -1, stdout, stderr }));
  });
}

test('subnets: two OS processes claiming at the same time never get the same subnet', async () => {
  const dir = tmpDir();
  const helper = path.join(__dirname, 'helpers', 'claim-subnets.js');
  const file = path.join(dir, 'spaces.json');
  const locks = path.join(dir, 'locks');
  const store = path.join(dir, 'store');
  fs.mkdirSync(store);
  const startAt = String(Date.now() + 400);
  const [p1, p2] = await Promise.all([
    runNode([helper, file, locks, store, 'one', '25', startAt]),
    runNode([helper, file, locks, store, 'two', '25', startAt]),
  ]);
  assert.is(p1.code, 0, p1.stderr);
  assert.is(p2.code, 0, p2.stderr);
  const all = [...JSON.parse(p1.stdout), ...JSON.parse(p2.stdout)] as string[];
  assert.is(all.length, 50);
  assert.is(new Set(all).size, 50, `duplicates: ${all.filter((s, i) => all.indexOf(s) !== i).join(', ')}`);
  const reg = JSON.parse(fs.readFileSync(file, 'utf8')).spaces;
  assert.is(Object.keys(reg).length, 50, 'every claim is recorded');
  assert.is(new Set(Object.values(reg).map((c) => (c as { subnet: string }).subnet)).size, 50);
});

class RecordingCommand extends HostCommand {
  readonly calls: string[][] = [];
  override async run(name: string, args: readonly string[]): Promise<CommandResult> {
    this.calls.push([name, ...args]);
    return { code: 1, stdout: '', stderr: 'Cannot find device' };
  }
}

async function spaceFixture() {
  const run = tmpDir();
  const host = await testHost([], run);
  const confDir = path.join(run, 'etc-cni');
  const rules: (SpaceRules | { removed: string })[] = [];
  const isolation = {
    apply: async (s: SpaceRules) => void rules.push(s),
    remove: async (s: SpaceRules) => void rules.push({ removed: s.owner }),
  } as unknown as Isolation;
  const cmd = new RecordingCommand();
  const config = {
    confDir,
    binDirs: [],
    cacheDir: path.join(run, 'cache'),
    ipamDataDir: path.join(run, 'ipam'),
    subnetPool: '10.90.0.0/16',
    masquerade: true,
  };
  const registryFile = path.join(run, 'run', 'cni', 'spaces.json');
  const spaces = new SpaceNetworks({
    host: host as never,
    config,
    registry: new SpaceRegistry(registryFile, host.locks),
    isolation,
    cmd,
    cache: new ResultCache(config.cacheDir),
    routesFile: path.join(run, 'no-routes'),
  });
  const space = async (realm: string, name: string, spec: Record<string, unknown> = {}): Promise<SpaceDoc> => {
    await host.controller.apply(`kind: Space\nmetadata: { name: ${name} }\nspec: ${JSON.stringify({ realmId: realm, ...spec })}\n`);
    return (await host.state.get({ kind: 'Space', path: [realm, name] }))!;
  };
  const ensure = async (doc: SpaceDoc) => {
    const status = { ...(doc.status ?? {}) };
    await spaces.ensure({ kind: 'Space', path: [doc.spec.realmId, doc.metadata.name] }, doc, status);
    const ref = { kind: 'Space' as const, path: [doc.spec.realmId, doc.metadata.name] };
    const store = host.services.get('store')!;
    await store.update(ref, (cur) => (cur ? { ...cur, status } : undefined));
    return status;
  };
  return { run, host, confDir, rules, cmd, spaces, space, ensure };
}

test('space network: conflist in confDir and a byte-identical copy beside the space; allowFrom resolves to bridges', async () => {
  const f = await spaceFixture();
  const doc = await f.space('main', 'blog', { network: { allowFrom: ['friends', 'other/x'] } });
  const st = await f.ensure(doc);
  const names = spaceNetworkNames('main', 'blog');
  assert.equal(st.network, {
    subnet: '10.90.0.0/24',
    gateway: '10.90.0.1',
    bridge: names.bridge,
    conflistPath: path.join(f.confDir, 'main-blog.conflist'),
  });
  const text = fs.readFileSync(st.network!.conflistPath!, 'utf8');
  assert.is(fs.readFileSync(path.join(f.run, 'main', 'blog', 'network.conflist'), 'utf8'), text);
  assert.is(JSON.parse(text).name, 'kukeon.main.blog');
  const applied = f.rules[0] as SpaceRules;
  assert.equal(applied.allow, [
    { bridge: spaceNetworkNames('main', 'friends').bridge, from: 'main/friends' },
    { bridge: spaceNetworkNames('other', 'x').bridge, from: 'other/x' },
  ]);
  assert.is(applied.subnet, '10.90.0.0/24');
  // a second space gets the next subnet; an explicit cniConfigPath is honoured
  const custom = path.join(f.run, 'custom', 'mine.conflist');
  const st2 = await f.ensure(await f.space('main', 'shop', { cniConfigPath: custom, network: { subnet: '10.99.0.0/24' } }));
  assert.is(st2.network!.conflistPath, custom);
  assert.is(st2.network!.subnet, '10.99.0.0/24');
  assert.ok(fs.existsSync(custom));
  assert.not.ok(fs.existsSync(path.join(f.confDir, 'main-shop.conflist')), 'nothing at the default path');
  // re-apply converges without rewriting: same bytes, same subnet
  const again = await f.ensure((await f.host.state.get({ kind: 'Space', path: ['main', 'blog'] }))!);
  assert.equal(again.network, st.network);
  // a drifted conflist is put back by repair (refresh); so is a missing copy
  fs.writeFileSync(st.network!.conflistPath!, '{"drifted": true}');
  fs.rmSync(path.join(f.run, 'main', 'blog', 'network.conflist'));
  await f.spaces.repair(
    { kind: 'Space', path: ['main', 'blog'] },
    (await f.host.state.get({ kind: 'Space', path: ['main', 'blog'] }))!,
    again,
  );
  assert.is(fs.readFileSync(st.network!.conflistPath!, 'utf8'), text);
  assert.is(fs.readFileSync(path.join(f.run, 'main', 'blog', 'network.conflist'), 'utf8'), text);
  // remove: conflist, copy, bridge, rules, claim
  const removed = await f.spaces.remove('main', 'blog', (await f.host.state.get({ kind: 'Space', path: ['main', 'blog'] }))!);
  assert.ok(removed.includes(st.network!.conflistPath!));
  assert.not.ok(fs.existsSync(st.network!.conflistPath!));
  assert.not.ok(fs.existsSync(path.join(f.run, 'main', 'blog', 'network.conflist')));
  assert.equal(f.cmd.calls.at(-1), ['ip', 'link', 'del', names.bridge]);
  assert.equal(f.rules.at(-1), { removed: 'main/blog' });
  assert.not.ok('main/blog' in (await new SpaceRegistry(path.join(f.run, 'run', 'cni', 'spaces.json'), f.host.locks).entries()));
});

test('space network: two spaces on one conflist file name, and a foreign file at the path, are refused and left alone', async () => {
  const f = await spaceFixture();
  await f.ensure(await f.space('a-b', 'c'));
  const file = path.join(f.confDir, 'a-b-c.conflist');
  const first = fs.readFileSync(file, 'utf8');
  const second = await f.space('a', 'b-c');
  // validation finds it before anything is written; create refuses it too (two processes may race past validation)
  const early = await f.spaces.refusal({ kind: 'Space', path: ['a', 'b-c'] }, second);
  assert.is(early?.code, 'KUKEON_E_CONFLICT');
  assert.is(early?.details.field, 'spec.cniConfigPath');
  assert.match(early!.message, /space\/a\/b-c would write .*a-b-c\.conflist, but space a-b\/c already uses it/);
  assert.is(
    await f.spaces.refusal({ kind: 'Space', path: ['a-b', 'c'] }, (await f.host.state.get({ kind: 'Space', path: ['a-b', 'c'] }))!),
    undefined,
    'the holder itself may be re-applied',
  );
  const e = await errorOf(() => f.ensure(second));
  assert.is((e as KukeonError).code, 'KUKEON_E_CONFLICT');
  assert.match(e.message, /a-b-c\.conflist, but space a-b\/c already uses it/);
  assert.is(fs.readFileSync(file, 'utf8'), first, 'the first space keeps its file');
  fs.mkdirSync(f.confDir, { recursive: true });
  fs.writeFileSync(path.join(f.confDir, 'main-db.conflist'), '{"cniVersion":"1.0.0","name":"someone-else","plugins":[{"type":"bridge"}]}');
  const foreign = await errorOf(async () => f.ensure(await f.space('main', 'db')));
  assert.is((foreign as KukeonError).code, 'KUKEON_E_CONFLICT');
  assert.match(foreign.message, 'declares network "someone-else"');
  await f.spaces.remove('main', 'db', undefined);
  assert.ok(fs.existsSync(path.join(f.confDir, 'main-db.conflist')), "remove never deletes a conflist that is not the space's");
});

test('invoke: the execution protocol, against a scripted plugin (env, stdin, result, error object, garbage)', async () => {
  const dir = tmpDir();
  const plugin = path.join(dir, 'fake');
  // Echoes what it was given as a result; fails per the config's "fail" field.
  fs.writeFileSync(
    plugin,
    `#!/bin/sh
conf=$(cat)
case "$conf" in
  *'"fail":"json"'*) echo '{"cniVersion":"1.0.0","code":7,"msg":"invalid network config","details":"no bridge"}'; exit 1;;
  *'"fail":"plain"'*) echo 'something broke' >&2; exit 2;;
  *'"fail":"garbage"'*) echo 'not json'; exit 0;;
esac
printf '{"cniVersion":"1.0.0","env":"%s|%s|%s|%s|%s|%s","stdin":%s}' "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_PATH" "$CNI_ARGS" "$conf"
`,
    { mode: 0o755 },
  );
  const base = {
    binary: plugin,
    containerId: 'main_blog_wp_web',
    netns: '/proc/1/ns/net',
    ifname: 'eth0',
    path: ['/a', '/b'],
    args: 'K=V',
  };
  const out = (await invokeCni({ ...base, command: 'ADD', config: { cniVersion: '1.0.0', name: 'n', type: 'fake' } })) as {
    env: string;
    stdin: unknown;
  };
  assert.is(out.env, 'ADD|main_blog_wp_web|/proc/1/ns/net|eth0|/a:/b|K=V');
  assert.equal(out.stdin, { cniVersion: '1.0.0', name: 'n', type: 'fake' });
  const del = (await invokeCni({ ...base, netns: undefined, command: 'DEL', config: {} })) as { env: string };
  assert.is(del.env, 'DEL|main_blog_wp_web||eth0|/a:/b|K=V', 'no CNI_NETNS for a DEL whose namespace is gone');
  const e = (await errorOf(() => invokeCni({ ...base, command: 'ADD', config: { fail: 'json' } }))) as CniError;
  assert.instance(e, CniError);
  assert.is(e.code, 'KUKEON_E_CNI');
  assert.is(e.cniCode, 7);
  assert.is(e.plugin, 'fake');
  assert.match(e.message, 'CNI plugin fake ADD failed: invalid network config: no bridge [code 7 (invalid network config)]');
  const plain = (await errorOf(() => invokeCni({ ...base, command: 'CHECK', config: { fail: 'plain' } }))) as CniError;
  assert.is(plain.cniCode, undefined);
  assert.match(plain.message, 'CNI plugin fake CHECK failed: something broke');
  assert.match((await errorOf(() => invokeCni({ ...base, command: 'ADD', config: { fail: 'garbage' } }))).message, 'not JSON');
  assert.match(
    (await errorOf(() => invokeCni({ ...base, binary: path.join(dir, 'nope'), command: 'ADD', config: {} }))).message,
    'cannot run',
  );
});

test('runner: ADD chains prevResult through the list; a failing plugin rolls the list back with DEL in reverse', async () => {
  const dir = tmpDir();
  const logFile = path.join(dir, 'log');
  for (const name of ['one', 'two', 'three']) {
    fs.writeFileSync(
      path.join(dir, name),
      `#!/bin/sh
conf=$(cat)
echo "$CNI_COMMAND ${name} $conf" >> ${logFile}
case "$CNI_COMMAND:$conf" in
  ADD:*'"boom":true'*) echo '{"code":11,"msg":"try later"}'; exit 1;;
  ADD:*) echo '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"interface":0,"address":"10.0.0.${name.length}/24"}],"by":"${name}"}';;
esac
`,
      { mode: 0o755 },
    );
  }
  const runner = new CniRunner({ binDirs: [path.join(dir, 'missing-dir'), dir] });
  const list = CniRunner.parseList(
    JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'one' }, { type: 'two' }, { type: 'three' }] }),
  );
  const params = { containerId: 'c1', netns: '/x', ifname: 'eth0' };
  const result = await runner.add(list, params);
  assert.is((result as unknown as { by: string }).by, 'three');
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n');
  assert.equal(
    lines.map((l) => l.split(' ').slice(0, 2).join(' ')),
    ['ADD one', 'ADD two', 'ADD three'],
  );
  assert.not.match(lines[0], 'prevResult');
  assert.match(lines[1], '"prevResult":{"cniVersion":"1.0.0"');
  assert.match(lines[1], '"by":"one"');
  assert.match(lines[2], '"by":"two"');
  fs.writeFileSync(logFile, '');
  await runner.del(list, params, result);
  assert.equal(
    fs
      .readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(0, 2).join(' ')),
    ['DEL three', 'DEL two', 'DEL one'],
  );
  assert.match(fs.readFileSync(logFile, 'utf8'), '"prevResult":{"cniVersion":"1.0.0"', 'DEL gets the cached result');
  fs.writeFileSync(logFile, '');
  const failing = CniRunner.parseList(
    JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'one' }, { type: 'two', boom: true }, { type: 'three' }] }),
  );
  const e = (await errorOf(() => runner.add(failing, params))) as CniError;
  assert.is(e.cniCode, 11);
  assert.equal(
    fs
      .readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(0, 2).join(' ')),
    ['ADD one', 'ADD two', 'DEL three', 'DEL two', 'DEL one'],
  );
  // a missing binary is named, and nothing runs
  fs.writeFileSync(logFile, '');
  const missingOne = CniRunner.parseList(
    JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'one' }, { type: 'portmap' }] }),
  );
  const m = await errorOf(() => runner.add(missingOne, params));
  assert.match(m.message, `CNI plugin binary "portmap" not found in ${path.join(dir, 'missing-dir')}, ${dir}`);
  assert.is(fs.readFileSync(logFile, 'utf8'), '');
});

/** A fixed answer for every command: what `iptables` says on a host where it works, or fails. */
class FixedCommand extends HostCommand {
  constructor(private readonly answer: CommandResult) {
    super();
  }
  override async run(): Promise<CommandResult> {
    return this.answer;
  }
}

test('doctor: missing plugin binaries by name, ip_forward off as a warning, iptables broken or with a DROP policy', async () => {
  const dir = tmpDir();
  const forward = path.join(dir, 'ip_forward');
  const config = {
    confDir: path.join(dir, 'net.d'),
    binDirs: [path.join(dir, 'bin')],
    cacheDir: dir,
    ipamDataDir: dir,
    subnetPool: '10.90.0.0/16',
    masquerade: true,
  };
  const runner = new CniRunner({ binDirs: config.binDirs });
  const find = (all: Diagnosis[], check: string): Diagnosis => {
    const d = all.find((x) => x.check === check);
    if (!d) throw new Error(`no ${check} finding`);
    return d;
  };
  fs.writeFileSync(forward, '0\n');
  const broken = await diagnose(config, runner, new FixedCommand({ code: 127, stdout: '', stderr: 'iptables not found' }), forward);
  for (const type of ['bridge', 'host-local', 'portmap']) {
    const d = find(broken, `cni.plugin.${type}`);
    assert.is(d.status, 'error', type);
    assert.match(d.detail, `CNI plugin binary "${type}" not found in ${config.binDirs[0]}`);
    assert.match(d.remedy!, 'containernetworking-plugins');
  }
  assert.is(find(broken, 'cni.ip_forward').status, 'warn');
  assert.match(find(broken, 'cni.ip_forward').detail, 'net.ipv4.ip_forward = 0');
  assert.is(find(broken, 'cni.iptables').status, 'error');
  assert.match(find(broken, 'cni.iptables').detail, 'iptables does not work here: iptables not found');
  // a working host: the real binaries, forwarding on, iptables answering (its FORWARD policy DROP is a warning)
  fs.mkdirSync(config.binDirs[0]);
  for (const type of ['bridge', 'host-local', 'portmap'])
    if (fs.existsSync(path.join('/usr/lib/cni', type))) fs.symlinkSync(path.join('/usr/lib/cni', type), path.join(config.binDirs[0], type));
  fs.writeFileSync(forward, '1\n');
  const good = await diagnose(config, runner, new FixedCommand({ code: 0, stdout: '-P FORWARD DROP\n', stderr: '' }), forward);
  if (fs.existsSync('/usr/lib/cni/bridge')) {
    assert.is(find(good, 'cni.plugin.bridge').status, 'ok');
    assert.match(find(good, 'cni.plugin.bridge').detail, CNI_VERSION);
  }
  assert.is(find(good, 'cni.ip_forward').status, 'ok');
  assert.is(find(good, 'cni.iptables').status, 'warn');
  assert.match(find(good, 'cni.iptables').detail, 'FORWARD policy is DROP');
  assert.is(find(good, 'cni.conf-dir').status, 'ok');
});

test('manifests: ports, hostNetwork and a space network validate; bad values and mixed host networking are refused', async () => {
  const cell = (containers: unknown[]) => ({
    kind: 'Cell',
    metadata: { name: 'web' },
    spec: { realmId: 'r', spaceId: 's', stackId: 't', containers },
  });
  const ok = validateDocument(
    cell([
      {
        id: 'a',
        image: 'x',
        ports: [
          { containerPort: 80, hostPort: 8080 },
          { containerPort: 53, hostPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
        ],
      },
    ]),
    1,
  );
  assert.is((ok.doc as { spec: { containers: { ports: unknown[] }[] } }).spec.containers[0].ports.length, 2);
  assert.ok(
    validateDocument(
      cell([
        { id: 'a', image: 'x', hostNetwork: true },
        { id: 'b', image: 'x', hostNetwork: true },
      ]),
      1,
    ),
  );
  const space = (network: unknown) => ({ kind: 'Space', metadata: { name: 's' }, spec: { realmId: 'r', network } });
  assert.ok(validateDocument(space({ subnet: '10.90.7.0/24', allowFrom: ['a', 'other/b'] }), 1));
  const refused = async (raw: unknown, field: string, what = 'KUKEON_E_INVALID') => {
    const e = (await errorOf(() => validateDocument(raw, 1))) as KukeonError;
    assert.is(e.code, what, e.message);
    assert.is(e.details.field, field, e.message);
    return e;
  };
  await refused(cell([{ id: 'a', image: 'x', ports: [{ containerPort: 0 }] }]), 'spec.containers[0].ports[0].containerPort');
  await refused(cell([{ id: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 65536 }] }]), 'spec.containers[0].ports[0].hostPort');
  await refused(cell([{ id: 'a', image: 'x', ports: [{ containerPort: 80, protocol: 'sctp' }] }]), 'spec.containers[0].ports[0].protocol');
  await refused(cell([{ id: 'a', image: 'x', ports: [{ containerPort: 80, hostIP: '300.1.1.1' }] }]), 'spec.containers[0].ports[0].hostIP');
  await refused(
    cell([
      { id: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] },
      { id: 'b', image: 'x', ports: [{ containerPort: 81, hostPort: 8080 }] },
    ]),
    'spec.containers[1].ports[0].hostPort',
  );
  await refused(
    cell([{ id: 'a', image: 'x', hostNetwork: true, ports: [{ containerPort: 80, hostPort: 8080 }] }]),
    'spec.containers[0].ports[0].hostPort',
  );
  const mixed = await refused(
    cell([
      { id: 'a', image: 'x', hostNetwork: true },
      { id: 'b', image: 'x' },
    ]),
    'spec.containers[1].hostNetwork',
  );
  assert.match(mixed.message, 'mixes host and cell networking');
  await refused(space({ subnet: '10.90.7.1/24' }), 'spec.network.subnet');
  await refused(space({ subnet: '10.90.7.0/31' }), 'spec.network.subnet');
  await refused(space({ subnet: 'ten' }), 'spec.network.subnet');
  await refused(space({ allowFrom: ['Bad'] }), 'spec.network.allowFrom[0]');
  await refused(space({ bogus: 1 }), 'spec.network.bogus');
  await refused(
    { kind: 'Space', metadata: { name: 's' }, spec: { realmId: 'r', defaults: {} } },
    'spec.defaults',
    'KUKEON_E_UNSUPPORTED_FIELD',
  );
});

test('runtime spec: a hostNetwork cell gets no network namespace; workloads do not join one', () => {
  const base = { cellPath: ['r', 's', 't', 'c'], etcDir: '/etc-dir', image: { Cmd: ['sh'] } };
  const types = (spec: ReturnType<typeof runtimeSpec>) => spec.linux!.namespaces!.map((n) => n.type);
  assert.ok(types(runtimeSpec({ ...base, role: 'root', container: undefined, pauseBinary: '/p', rootfsPath: '/r' })).includes('network'));
  assert.not.ok(
    types(runtimeSpec({ ...base, role: 'root', container: undefined, pauseBinary: '/p', rootfsPath: '/r', hostNetwork: true })).includes(
      'network',
    ),
  );
  const workload = runtimeSpec({ ...base, role: 'workload', container: { id: 'a', image: 'x' }, rootPid: 42 });
  assert.equal(
    workload.linux!.namespaces!.find((n) => n.type === 'network'),
    { type: 'network', path: '/proc/42/ns/net' },
  );
  assert.not.ok(
    types(
      runtimeSpec({ ...base, role: 'workload', container: { id: 'a', image: 'x', hostNetwork: true }, rootPid: 42, hostNetwork: true }),
    ).includes('network'),
  );
});

test.run();
