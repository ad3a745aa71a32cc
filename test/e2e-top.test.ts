// `kuke top` on the private containerd with CNI and cgroups: a cell that spins shows its CPU, memory and pids from
// its cgroups, a cell that pings its gateway shows network I/O from its namespace, and a stopped cell shows none.

import * as assert from 'uvu/assert';
import { E2EHarness, tempCniTable } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from './helpers/busybox-oci';
import type { UsageRow } from '../src/cli/output/usage-sample';

const MANIFEST = `apiVersion: v1beta1
kind: Realm
metadata: { name: main }
---
apiVersion: v1beta1
kind: Space
metadata: { name: blog }
spec: { realmId: main }
---
apiVersion: v1beta1
kind: Stack
metadata: { name: wp }
spec: { realmId: main, spaceId: blog }
---
apiVersion: v1beta1
kind: Cell
metadata: { name: spin }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: busy, image: "${BUSYBOX_IMAGE_REF}", command: sh, args: ["-c", "while :; do :; done"] }
    - { id: idle, image: "${BUSYBOX_IMAGE_REF}", command: sh, args: ["-c", "sleep 300 & sleep 300 & wait"] }
---
apiVersion: v1beta1
kind: Cell
metadata: { name: talk }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: ping, image: "${BUSYBOX_IMAGE_REF}", command: sh, args: ["-c", "ping -i 0.2 $(ip route | awk '/default/ { print $3 }')"] }
`;

e2eSuite('kuke top on containerd, CNI and cgroups', (test) => {
  let h: E2EHarness;

  test.before(async () => {
    h = await E2EHarness.start({
      name: 'top',
      plugins: ({ tmp, cgroupRoot }) => ({ cni: tempCniTable(tmp), cgroupv2: { root: cgroupRoot } }),
    });
    assert.is((await h.kuke(['create', 'realm', 'main'])).code, 0);
    const load = await h.kuke(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'main']);
    assert.is(load.code, 0, load.stderr);
    const r = await h.kuke(['apply', '-f', '-'], { input: MANIFEST, timeoutMs: 120_000 });
    assert.is(r.code, 0, r.stderr);
  });

  test.after(async () => {
    await h?.kuke(['purge', 'realm', 'main', '--cascade'], { timeoutMs: 120_000 });
    const diff = await h?.stop();
    assert.equal(diff ?? [], [], `the host changed: ${diff?.join('; ')}`);
  });

  const top = async (...args: string[]): Promise<UsageRow[]> => {
    const r = await h.kuke(['top', '--no-stream', '-o', 'json', '--interval', '2', ...args], { timeoutMs: 60_000 });
    assert.is(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).items;
  };

  test('a spinning container shows its CPU; memory and pids come from the cgroups', async () => {
    const rows = await top('spin');
    const cell = rows.find((r) => !r.container)!;
    const busy = rows.find((r) => r.container === 'busy')!;
    const idle = rows.find((r) => r.container === 'idle')!;
    assert.is(cell.cell, 'main/blog/wp/spin');
    assert.ok(busy.cpuPercent! > 30, `busy uses a CPU: ${busy.cpuPercent}%`);
    assert.ok(idle.cpuPercent! < 5, `idle does not: ${idle.cpuPercent}%`);
    assert.ok(cell.cpuPercent! >= busy.cpuPercent! * 0.8, `the cell's cgroup holds its containers' CPU: ${cell.cpuPercent}%`);
    assert.ok(idle.pids! >= 3, `idle: sh and two sleeps (${idle.pids})`);
    assert.ok(busy.memoryBytes! > 0 && cell.memoryBytes! >= busy.memoryBytes!, 'memory from the cgroups');
    assert.equal(
      rows.map((r) => r.cell),
      Array(3).fill('main/blog/wp/spin'),
      'only the cell asked for',
    );
  });

  test('a pinging cell shows network I/O from its namespace; a stopped cell shows no usage', async () => {
    const [talk] = await top('talk');
    assert.ok(talk.netTxBytes! > 0 && talk.netRxBytes! > 0, `bytes sent and received: ${talk.netTxBytes} / ${talk.netRxBytes}`);
    assert.ok(talk.netTxRate! > 100, `about five pings a second: ${talk.netTxRate} B/s`);
    const stop = await h.kuke(['stop', 'talk', '--realm', 'main', '--space', 'blog', '--stack', 'wp', '--timeout', '1']);
    assert.is(stop.code, 0, stop.stderr);
    const [stopped, ping] = await top('talk');
    assert.is(stopped.state, 'Stopped');
    assert.is(ping.cpuPercent, undefined, 'no cgroup, no CPU figure');
    assert.is(stopped.netRxRate, undefined, 'no namespace, no network figure');
  });
});
