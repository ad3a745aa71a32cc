// End to end for the cni plugin, inside the harness's network namespace: containerd and kuke run there, so the
// bridges, veths, IPAM leases and iptables rules the CNI plugins make land there (never in the host's root
// namespace); conflists, cached results and leases live under the harness temp dir. Traffic goes only between
// that namespace and the cells' namespaces. The host snapshot check at the end proves the host is unchanged.

import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { Ipv4Cidr } from '../sdk';
import { E2EHarness, runCommand, tempCniTable, CNI_BIN } from './e2e/harness';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { spaceNetworkNames } from '../plugins/cni/naming';
import { buildBusyboxOciFile } from './helpers/busybox-oci';

const IMAGE = 'docker.io/kukeon/busybox:test';
const missing = ['bridge', 'host-local', 'portmap'].filter((b) => !fs.existsSync(path.join(CNI_BIN, b)));
if (missing.length) process.env.KUKEON_E2E_CNI_MISSING = missing.join(', ');

/** A container that sleeps and exits at once on SIGTERM (a bare `sleep` as PID 1 ignores it: stop would wait 10 s). */
const sleeper = (id: string, extra = '') =>
  `    - { id: ${id}, image: "${IMAGE}", command: sh, args: ["-c", "trap 'exit 0' TERM; sleep 300 & wait"]${extra} }\n`;

function cell(space: string, name: string, containers: string): string {
  return `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: main
  spaceId: ${space}
  stackId: app
  containers:
${containers}`;
}

e2eSuite('cni network', (test) => {
  let h: E2EHarness;
  const confDir = () => path.join(h.tmp, 'cni', 'net.d');
  const cacheDir = () => path.join(h.tmp, 'cni', 'cache');
  const ipamDir = () => path.join(h.tmp, 'cni', 'ipam');

  const kuke = (args: string[], input?: string) => h.kuke(args, { input, timeoutMs: 60_000 });
  const ok = async (args: string[], input?: string) => {
    const r = await kuke(args, input);
    assert.is(r.code, 0, `kuke ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const yamlOf = (...rel: string[]) => YAML.parse(fs.readFileSync(path.join(h.runPath, ...rel), 'utf8'));
  const cellStatus = (space: string, name: string) => yamlOf('main', space, 'app', name, 'cell.yaml').status;
  const spaceStatus = (space: string, realm = 'main') => yamlOf(realm, space, 'space.yaml').status;
  /** Runs `cmd` inside a cell's network namespace (entered through its root's pid). */
  const inCell = (space: string, name: string, cmd: string[]): Promise<RunResult> =>
    runCommand('nsenter', [`--net=/proc/${cellStatus(space, name).root.pid}/ns/net`, ...cmd], { timeoutMs: 15_000 });
  const ping = async (space: string, name: string, ip: string) =>
    (await inCell(space, name, ['/bin/busybox', 'ping', '-c', '1', '-W', '1', ip])).code === 0;
  const links = async () => (await h.exec('ip', ['-o', 'link', 'show'])).stdout;
  const iptablesSave = async () => (await h.exec('iptables-save', [])).stdout;

  test.before(async () => {
    if (process.env.KUKEON_E2E_CNI_MISSING)
      throw new Error(
        `CNI plugins missing in ${CNI_BIN}: ${process.env.KUKEON_E2E_CNI_MISSING} (apt-get install containernetworking-plugins)`,
      );
    h = await E2EHarness.start({
      name: 'cni',
      plugins: ({ tmp }) => ({
        cni: tempCniTable(tmp),
      }),
    });
    await ok(['create', 'realm', 'main']);
    await ok(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'main']);
  });

  let t0 = 0;
  test.before.each(() => void (t0 = Date.now()));
  test.after.each((ctx) => void (process.env.KUKEON_E2E_TIMING && console.log(`  ${ctx.__test__}: ${Date.now() - t0} ms`)));

  test.after(async () => {
    const diff = await h?.stop();
    assert.equal(diff ?? [], [], `the host changed: ${diff?.join('; ')}`);
  });

  test('spaces get their own subnet, bridge and conflist (with a byte-identical copy); cells of a space reach each other and the gateway', async () => {
    const spaces = ['blog', 'other', 'friends']
      .map(
        (s) =>
          `kind: Space\nmetadata: { name: ${s} }\nspec:\n  realmId: main\n${s === 'blog' ? '  network: { allowFrom: [friends] }\n' : ''}`,
      )
      .join('---\n');
    const web = `    - { id: srv, image: "${IMAGE}", command: sh, args: ["-c", "trap 'exit 0' TERM; while true; do nc -l -p 8080 & wait $!; done"], ports: [{ containerPort: 8080, hostPort: 18080 }] }\n`;
    const cells = [
      cell('blog', 'web', web),
      cell('blog', 'db', sleeper('pg')),
      cell('other', 'intruder', sleeper('x')),
      cell('friends', 'pal', sleeper('y')),
    ].join('---\n');
    await ok(['apply', '-f', '-'], `${spaces}---\n${cells}`);

    const blog = spaceStatus('blog').network;
    const other = spaceStatus('other').network;
    const subnet = Ipv4Cidr.parse(blog.subnet)!;
    assert.ok(subnet && Ipv4Cidr.parse('10.90.0.0/16')!.overlaps(subnet), `blog's subnet ${blog.subnet} comes from the pool`);
    assert.is.not(other.subnet, blog.subnet);
    assert.is(blog.gateway, subnet.host(1));
    assert.ok(blog.bridge.length <= 15 && blog.bridge.startsWith('kk-'), blog.bridge);
    assert.is(blog.conflistPath, path.join(confDir(), 'main-blog.conflist'));
    const conflist = fs.readFileSync(blog.conflistPath);
    assert.equal(fs.readFileSync(path.join(h.runPath, 'main', 'blog', 'network.conflist')), conflist, 'the copy is byte-identical');
    const parsed = JSON.parse(conflist.toString());
    assert.is(parsed.name, 'kukeon.main.blog');
    assert.is(parsed.plugins[0].bridge, blog.bridge);
    assert.is(parsed.plugins[0].ipam.dataDir, ipamDir());

    const web0 = cellStatus('blog', 'web');
    const db = cellStatus('blog', 'db');
    for (const st of [web0, db]) {
      assert.is(st.state, 'Ready');
      assert.is(st.network.state, 'Attached');
      assert.ok(subnet.contains(Ipv4Cidr.parseAddress(st.ip)!), `${st.ip} is in ${blog.subnet}`);
      assert.is(st.network.gateway, blog.gateway);
    }
    assert.is.not(web0.ip, db.ip);
    assert.ok(await ping('blog', 'web', db.ip), 'web reaches db');
    assert.ok(await ping('blog', 'web', blog.gateway), 'web reaches its gateway');
    assert.ok(await ping('blog', 'db', web0.ip), 'db reaches web');
    // the addresses really are on eth0 in the cells, and the leases are where the config says
    assert.match((await inCell('blog', 'db', ['/bin/busybox', 'ip', '-4', 'addr', 'show', 'eth0'])).stdout, `inet ${db.network.address}`);
    assert.ok(fs.existsSync(path.join(ipamDir(), 'kukeon.main.blog', db.ip)), 'host-local lease');
    assert.ok(fs.existsSync(path.join(cacheDir(), 'results', 'kukeon.main.blog-main_blog_app_db-eth0')), 'cached ADD result');
  });

  test('isolation: another space cannot reach the cells unless allowFrom lets it', async () => {
    const web = cellStatus('blog', 'web');
    const other = spaceStatus('other').network;
    assert.ok(await ping('other', 'intruder', other.gateway), 'positive control: the intruder reaches its own gateway');
    assert.not.ok(await ping('other', 'intruder', web.ip), 'a cell of "other" cannot reach blog');
    assert.ok(await ping('friends', 'pal', web.ip), 'a cell of "friends" (in blog.allowFrom) can');
    assert.not.ok(await ping('blog', 'web', cellStatus('other', 'intruder').ip), 'nor can blog reach "other", which allows nobody');
    assert.match(
      await iptablesSave(),
      `-A KUKEON-FORWARD -o ${spaceStatus('blog').network.bridge} -j KUKEON-${spaceStatus('blog').network.bridge}`,
    );
  });

  test('/etc/hosts in the container has the cell IP; /etc/hostname the cell name', async () => {
    const st = cellStatus('blog', 'db');
    const pg = yamlOf('main', 'blog', 'app', 'db', 'containers', 'pg.yaml').status;
    assert.match(fs.readFileSync(`/proc/${pg.pid}/root/etc/hosts`, 'utf8'), `${st.ip}\tdb`);
    assert.is(fs.readFileSync(`/proc/${pg.pid}/root/etc/hostname`, 'utf8').trim(), 'db');
  });

  test('a published port answers at hostPort on the gateway, dialled from the harness namespace', async () => {
    const gw = spaceStatus('blog').network.gateway;
    const log = yamlOf('main', 'blog', 'app', 'web', 'containers', 'srv.yaml').status.logPath;
    let sent = false;
    for (let i = 0; i < 20 && !sent; i++) {
      const r = await h.exec('/bin/busybox', ['sh', '-c', `echo hello-through-portmap | /bin/busybox nc -w 2 ${gw} 18080`], {
        timeoutMs: 10_000,
      });
      sent = r.code === 0 && fs.readFileSync(log, 'utf8').includes('hello-through-portmap');
      if (!sent) await new Promise((r2) => setTimeout(r2, 200));
    }
    assert.ok(sent, `the message reached the container's nc (log: ${fs.readFileSync(log, 'utf8')})`);
    assert.match(await iptablesSave(), /DNAT --to-destination [0-9.]+:8080/);
  });

  test('hostIP publishes a port on that address only; a workload starts with its eth0 address already there', async () => {
    const gw = spaceStatus('blog').network.gateway;
    const otherGw = spaceStatus('other').network.gateway;
    // the workload prints eth0's address first thing: ADD ran on the root's namespace before workloads started
    const srv = `    - { id: srv, image: "${IMAGE}", command: sh, args: ["-c", "/bin/busybox ip -4 -o addr show eth0; trap 'exit 0' TERM; while true; do nc -l -p 9090 & wait $!; done"], ports: [{ containerPort: 9090, hostPort: 18090, protocol: tcp, hostIP: "${gw}" }] }\n`;
    await ok(['apply', '-f', '-'], cell('blog', 'pinned', srv));
    const st = cellStatus('blog', 'pinned');
    const log = yamlOf('main', 'blog', 'app', 'pinned', 'containers', 'srv.yaml').status.logPath;
    // its first line: the shim copies it to the log on its own time, so it may trail the apply a little
    const logText = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
    for (let i = 0; i < 50 && !logText().includes('inet '); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(logText(), `inet ${st.network.address}`, 'the workload saw its address when it started');
    const send = async (addr: string, msg: string) => {
      for (let i = 0; i < 20; i++) {
        await h.exec('/bin/busybox', ['sh', '-c', `echo ${msg} | /bin/busybox nc -w 2 ${addr} 18090`], { timeoutMs: 10_000 });
        await new Promise((r) => setTimeout(r, 200));
        if (fs.readFileSync(log, 'utf8').includes(msg)) return true;
      }
      return false;
    };
    assert.ok(await send(gw, 'to-the-host-ip'), `the port answers on its hostIP ${gw}`);
    // the same hostPort on another address of the harness namespace is not published (without hostIP it would be):
    // nothing forwards it, so the dial is refused there and then (a lost send could not pass for a refusal)
    const other = await h.exec('/bin/busybox', ['sh', '-c', `echo to-another-ip | /bin/busybox nc -w 1 ${otherGw} 18090`], {
      timeoutMs: 10_000,
    });
    assert.ok(other.code !== 0 && /refused/i.test(other.stderr), `${otherGw}:18090 refused the dial: ${other.code} ${other.stderr}`);
    assert.ok(await send(gw, 'still-listening'), 'positive control: the listener was there all along');
    assert.not.match(fs.readFileSync(log, 'utf8'), 'to-another-ip', `nothing arrived through ${otherGw}`);
    assert.ok(
      (await iptablesSave()).split('\n').some((l) => l.includes(`-d ${gw}/32`) && l.includes('--dport 18090') && l.includes('DNAT')),
      'the DNAT rule is bound to the hostIP',
    );
    await ok(['delete', 'cell', 'pinned', '--realm', 'main', '--space', 'blog', '--stack', 'app']);
    assert.not.match(await iptablesSave(), '--dport 18090', 'the mapping left with the cell');
  });

  test('refresh rewrites a missing or drifted conflist and copy; it reports a deleted veth as a broken attachment; start repairs it', async () => {
    const conflist = spaceStatus('blog').network.conflistPath;
    const copy = path.join(h.runPath, 'main', 'blog', 'network.conflist');
    const bytes = fs.readFileSync(conflist);
    fs.rmSync(conflist);
    fs.writeFileSync(copy, '{"drifted": true}\n');
    const before = cellStatus('blog', 'db');
    const veth = before.network.hostInterface;
    assert.match(veth, /^veth/);
    const del = await h.exec('ip', ['link', 'del', veth]);
    assert.is(del.code, 0, del.stderr);
    await ok(['refresh']);
    assert.equal(fs.readFileSync(conflist), bytes, 'the conflist is back');
    assert.equal(fs.readFileSync(copy), bytes, 'the copy is back');
    const broken = cellStatus('blog', 'db');
    assert.is(broken.network.state, 'Broken');
    assert.match(broken.network.message, /eth0|not found/i);
    assert.is(broken.state, 'Failed');
    assert.is(broken.reason, 'NetworkBroken');
    assert.is(cellStatus('blog', 'web').network.state, 'Attached', 'a healthy cell stays Attached');
    await ok(['start', 'db', '--realm', 'main', '--space', 'blog', '--stack', 'app']);
    const fixed = cellStatus('blog', 'db');
    assert.is(fixed.state, 'Ready');
    assert.is(fixed.network.state, 'Attached');
    assert.ok(await ping('blog', 'web', fixed.ip), 'reachable again');
    // the file in the CNI directory drifted (the one plugins are run with), and the copy is gone
    fs.writeFileSync(conflist, bytes.toString().replace(spaceStatus('blog').network.gateway, '10.90.250.1'));
    fs.rmSync(copy);
    await ok(['refresh']);
    assert.equal(fs.readFileSync(conflist), bytes, 'the drifted conflist is rewritten');
    assert.equal(fs.readFileSync(copy), bytes, 'the missing copy is rewritten');
    assert.is(cellStatus('blog', 'db').network.state, 'Attached');
  });

  test('stop releases the attachment (veth, lease, cached result); delete after it is fine', async () => {
    const st = cellStatus('blog', 'db');
    await ok(['stop', 'db', '--realm', 'main', '--space', 'blog', '--stack', 'app', '--timeout', '1']);
    const after = cellStatus('blog', 'db');
    assert.is(after.ip, undefined);
    assert.is(after.network, undefined);
    assert.not.match(await links(), `${st.network.hostInterface}@`);
    assert.not.ok(fs.existsSync(path.join(ipamDir(), 'kukeon.main.blog', st.ip)), 'lease released');
    assert.not.ok(fs.existsSync(path.join(cacheDir(), 'results', 'kukeon.main.blog-main_blog_app_db-eth0')), 'cached result removed');
    await ok(['delete', 'cell', 'db', '--realm', 'main', '--space', 'blog', '--stack', 'app']);
    assert.not.ok(fs.existsSync(path.join(ipamDir(), 'kukeon.main.blog', st.ip)));
  });

  test('a hostNetwork cell skips CNI and runs in the host namespace', async () => {
    await ok(['apply', '-f', '-'], cell('blog', 'hostnet', sleeper('h', ', hostNetwork: true')));
    const st = cellStatus('blog', 'hostnet');
    assert.is(st.state, 'Ready');
    assert.is(st.network.state, 'Host');
    assert.is(st.ip, undefined);
    assert.is(fs.statSync(`/proc/${st.root.pid}/ns/net`).ino, fs.statSync(h.netnsPath).ino, "the root is in the harness's namespace");
    assert.not.ok(fs.existsSync(path.join(cacheDir(), 'results', 'kukeon.main.blog-main_blog_app_hostnet-eth0')));
    const mixed = await kuke(['apply', '-f', '-'], cell('blog', 'mixed', sleeper('a', ', hostNetwork: true') + sleeper('b')));
    assert.is(mixed.code, 1);
    assert.match(mixed.stderr, /spec\.containers\[1\]\.hostNetwork.*KUKEON_E_INVALID/s);
    await ok(['delete', 'cell', 'hostnet', '--realm', 'main', '--space', 'blog', '--stack', 'app']);
  });

  test('two spaces mapping to one conflist file name: the second is refused with a coded error', async () => {
    await ok(['create', 'realm', 'main-x']);
    await ok(['create', 'space', 'y', '--realm', 'main-x']);
    const r = await kuke(['create', 'space', 'x-y', '--realm', 'main']);
    assert.is(r.code, 1);
    assert.match(r.stderr, /main-x-y\.conflist.*main-x\/y.*KUKEON_E_CONFLICT/s);
    assert.is(
      JSON.parse(fs.readFileSync(path.join(confDir(), 'main-x-y.conflist'), 'utf8')).name,
      'kukeon.main-x.y',
      'the first one is untouched',
    );
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main', 'x-y')), 'the refused space is not stored');
    assert.not.ok(
      'main/x-y' in JSON.parse(fs.readFileSync(path.join(h.runPath, 'run', 'cni', 'spaces.json'), 'utf8')).spaces,
      'nor claimed',
    );
    assert.not.match(await iptablesSave(), spaceNetworkNames('main', 'x-y').bridge, 'nor given rules');
    // the same space as the implicit parent of a stack in an apply: refused before anything is written
    const implicit = await kuke(
      ['apply', '-f', '-'],
      'apiVersion: v1beta1\nkind: Stack\nmetadata: { name: st }\nspec: { realmId: main, spaceId: x-y }\n',
    );
    assert.is(implicit.code, 1);
    assert.match(
      implicit.stderr,
      /space\/main\/x-y, the implicit parent of stack\/main\/x-y\/st: .*main-x-y\.conflist.*KUKEON_E_CONFLICT/s,
    );
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main', 'x-y')), 'the implicit space is not stored');
    await ok(['delete', 'realm', 'main-x', '--cascade']);
    assert.not.ok(fs.existsSync(path.join(confDir(), 'main-x-y.conflist')));
  });

  test('10 spaces created by separate processes at once get 10 distinct subnets', async () => {
    await ok(['create', 'realm', 'par']);
    const names = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const runs = await Promise.all(names.map((n) => kuke(['create', 'space', n, '--realm', 'par'])));
    for (const [i, r] of runs.entries()) assert.is(r.code, 0, `space ${names[i]}: ${r.stderr}`);
    const subnets = names.map((n) => spaceStatus(n, 'par').network.subnet as string);
    assert.is(new Set(subnets).size, 10, subnets.join(' '));
    const taken = [spaceStatus('blog'), spaceStatus('other'), spaceStatus('friends')].map((s) => s.network.subnet);
    for (const s of subnets) assert.not.ok(taken.includes(s), `${s} is not another space's`);
    const bridges = names.map((n) => spaceStatus(n, 'par').network.bridge as string);
    for (const b of bridges) assert.match(await iptablesSave(), `KUKEON-${b}`);
    await ok(['delete', 'realm', 'par', '--cascade']);
    assert.equal(
      fs.readdirSync(confDir()).filter((f) => f.startsWith('par-')),
      [],
    );
    const save = await iptablesSave();
    for (const b of bridges) assert.not.match(save, `KUKEON-${b}`, `the rules of ${b} left with the realm`);
    assert.equal(
      Object.keys(JSON.parse(fs.readFileSync(path.join(h.runPath, 'run', 'cni', 'spaces.json'), 'utf8')).spaces).filter((o) =>
        o.startsWith('par/'),
      ),
      [],
      'claims released',
    );
  });

  test('a /24 the host already routes is never given to a space, nor accepted as spec.network.subnet', async () => {
    await ok(['create', 'realm', 'rt']);
    await ok(['create', 'space', 'probe', '--realm', 'rt']);
    const next = spaceStatus('probe', 'rt').network.subnet as string;
    await ok(['delete', 'space', 'probe', '--realm', 'rt']);
    // the harness namespace now routes that /24 through a link of its own (a veth pair, not a kukeon bridge)
    const cidr = Ipv4Cidr.parse(next)!;
    for (const args of [
      ['link', 'add', 'kt-route0', 'type', 'veth', 'peer', 'name', 'kt-route1'],
      ['addr', 'add', `${cidr.host(1)}/24`, 'dev', 'kt-route0'],
      ['link', 'set', 'kt-route1', 'up'],
      ['link', 'set', 'kt-route0', 'up'],
    ]) {
      const r = await h.exec('ip', args);
      assert.is(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
    }
    try {
      assert.match((await h.exec('ip', ['-4', 'route', 'show', next])).stdout, 'kt-route0');
      await ok(['create', 'space', 'routed', '--realm', 'rt']);
      const got = Ipv4Cidr.parse(spaceStatus('routed', 'rt').network.subnet)!;
      assert.not.ok(got.overlaps(cidr), `${got} must not overlap the routed ${next}`);
      const r = await kuke(
        ['apply', '-f', '-'],
        `kind: Space\nmetadata: { name: pinned }\nspec:\n  realmId: rt\n  network: { subnet: "${next}" }\n`,
      );
      assert.is(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`overlaps the host's route ${next.replace(/\./g, '\\.')} \\(dev kt-route0\\).*KUKEON_E_CONFLICT`, 's'),
      );
      assert.not.ok(fs.existsSync(path.join(h.runPath, 'rt', 'pinned')), 'the refused space is not stored');
    } finally {
      await h.exec('ip', ['link', 'del', 'kt-route0']);
    }
    await ok(['delete', 'realm', 'rt', '--cascade']);
  });

  test('doctor reports the plugin binaries, ip_forward and iptables; a missing binary by name', async () => {
    const report = JSON.parse(await ok(['doctor', '-o', 'json']));
    const find = (check: string) => report.findings.find((f: { check: string }) => f.check === check);
    assert.is(find('cni.plugin.bridge').status, 'ok');
    assert.match(find('cni.plugin.bridge').detail, '1.0.0');
    assert.is(find('cni.plugin.portmap').status, 'ok');
    assert.is(find('cni.ip_forward').status, 'ok', 'the bridge plugin enabled forwarding in the harness namespace');
    assert.is(find('cni.iptables').status, 'ok');
    const partial = path.join(h.tmp, 'partial-bin');
    fs.mkdirSync(partial);
    for (const b of ['bridge', 'host-local']) fs.symlinkSync(path.join(CNI_BIN, b), path.join(partial, b));
    h.writeConfig(({ tmp }) => ({
      cni: {
        confDir: path.join(tmp, 'cni', 'net.d'),
        cacheDir: path.join(tmp, 'cni', 'cache'),
        ipamDataDir: path.join(tmp, 'cni', 'ipam'),
        binDirs: [partial],
      },
    }));
    try {
      const r = await kuke(['doctor', '-o', 'json']);
      assert.is(r.code, 1);
      const bad = JSON.parse(r.stdout).findings.find((f: { check: string }) => f.check === 'cni.plugin.portmap');
      assert.is(bad.status, 'error');
      assert.match(bad.detail, `"portmap" not found in ${partial}`);
      const start = await kuke(['apply', '-f', '-'], cell('other', 'nobin', sleeper('z')));
      assert.is(start.code, 1);
      assert.match(start.stderr, /CNI plugin binary "portmap" not found/);
      assert.is(cellStatus('other', 'nobin').state, 'Failed');
    } finally {
      h.writeConfig(({ tmp }) => ({
        cni: tempCniTable(tmp),
      }));
    }
    await ok(['delete', 'cell', 'nobin', '--realm', 'main', '--space', 'other', '--stack', 'app']);
  });

  test('purge sweeps what a space left behind when its YAML is gone', async () => {
    await ok(['apply', '-f', '-'], cell('other', 'ghost', sleeper('g')));
    const st = cellStatus('other', 'ghost');
    const net = spaceStatus('other').network;
    // the YAML forgets the cell (as after a crash or a hand edit): only the host traces remain
    fs.rmSync(path.join(h.runPath, 'main', 'other', 'app', 'ghost'), { recursive: true });
    await ok(['purge', 'cell', 'ghost', '--realm', 'main', '--space', 'other', '--stack', 'app']);
    assert.not.ok(fs.existsSync(path.join(ipamDir(), 'kukeon.main.other', st.ip)), 'the lease is gone');
    assert.not.ok(fs.existsSync(path.join(cacheDir(), 'results', 'kukeon.main.other-main_other_app_ghost-eth0')));
    assert.not.match(await links(), `${st.network.hostInterface}@`);
    // a whole space forgotten by the YAML: purge removes its conflist, bridge, leases and rules
    await ok(['apply', '-f', '-'], cell('lost', 'c', sleeper('l')));
    const lost = spaceStatus('lost').network;
    const lostCell = cellStatus('lost', 'c');
    assert.match(await links(), `${lostCell.network.hostInterface}@`);
    fs.rmSync(path.join(h.runPath, 'main', 'lost'), { recursive: true });
    await ok(['purge', 'space', 'lost', '--realm', 'main']);
    assert.not.ok(fs.existsSync(lost.conflistPath));
    assert.not.ok(fs.existsSync(path.join(ipamDir(), 'kukeon.main.lost')));
    assert.not.match(await links(), lost.bridge);
    assert.not.match(await links(), `${lostCell.network.hostInterface}@`, "the cell's veth is gone");
    assert.not.ok(fs.existsSync(path.join(cacheDir(), 'results', 'kukeon.main.lost-main_lost_app_c-eth0')));
    assert.not.match(await iptablesSave(), `KUKEON-${lost.bridge}`);
    assert.ok(fs.existsSync(net.conflistPath), "the other space's conflist stays");
    // a whole realm forgotten by the YAML: purge of the realm finds its spaces by their traces on the host
    await ok(['create', 'realm', 'gone']);
    await ok(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'gone']);
    await ok(['apply', '-f', '-'], cell('s', 'c', sleeper('g')).replace('realmId: main', 'realmId: gone'));
    const gone = yamlOf('gone', 's', 'space.yaml').status.network;
    const goneCell = yamlOf('gone', 's', 'app', 'c', 'cell.yaml').status;
    fs.rmSync(path.join(h.runPath, 'gone'), { recursive: true });
    await ok(['purge', 'realm', 'gone']);
    assert.not.ok(fs.existsSync(gone.conflistPath), 'conflist');
    assert.not.ok(fs.existsSync(path.join(ipamDir(), 'kukeon.gone.s')), 'leases');
    assert.not.ok(fs.existsSync(path.join(cacheDir(), 'results', 'kukeon.gone.s-gone_s_app_c-eth0')), 'cached result');
    const l = await links();
    assert.not.match(l, gone.bridge, 'bridge');
    assert.not.match(l, `${goneCell.network.hostInterface}@`, 'veth');
    assert.not.match(await iptablesSave(), `KUKEON-${gone.bridge}`, 'rules');
    assert.not.ok('gone/s' in JSON.parse(fs.readFileSync(path.join(h.runPath, 'run', 'cni', 'spaces.json'), 'utf8')).spaces, 'claim');
  });

  test('delete space --cascade removes the conflist and its copy, the bridge, the IPAM state and the rules', async () => {
    const spaces = ['blog', 'other', 'friends'].map((s) => ({ s, net: spaceStatus(s).network }));
    assert.match(await links(), spaces[0].net.bridge);
    for (const { s } of spaces) await ok(['delete', 'space', s, '--realm', 'main', '--cascade']);
    for (const { s, net } of spaces) {
      assert.not.ok(fs.existsSync(net.conflistPath), `${s}: conflist`);
      assert.not.ok(fs.existsSync(path.join(h.runPath, 'main', s, 'network.conflist')), `${s}: copy`);
      assert.not.ok(fs.existsSync(path.join(ipamDir(), `kukeon.main.${s}`)), `${s}: IPAM state`);
    }
    const l = await links();
    assert.not.match(l, /kk-/, 'no bridge left');
    assert.not.match(l, /veth/, 'no veth left');
    assert.equal(
      (await iptablesSave()).split('\n').filter((line) => line.includes('KUKEON')),
      [],
      'no kukeon chain left',
    );
    assert.equal(fs.readdirSync(confDir()), []);
    assert.equal(fs.existsSync(path.join(cacheDir(), 'results')) ? fs.readdirSync(path.join(cacheDir(), 'results')) : [], []);
  });
});
