// `kuke daemon` and `kuke status` on a private containerd with the containerd, CNI and cgroupv2 plugins. The system
// cell kukeon-system/kukeon/kukeon/kukeond is applied here with --force-system (as kuke init writes it); its
// container `kukeond` runs a busybox stand-in (a shell that logs and exits on SIGTERM), and a real kukeond started
// by the test answers the pings: start/stop/restart/logs drive the cell, the wait drives the ping.

import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { E2EHarness, tempCniTable } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from './helpers/busybox-oci';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { waitFor } from './helpers/wait-for';

const SYSTEM_NS = 'kukeon-kukeon-system';
const MAIN_NS = 'kukeon-main';
const KUKEOND_ID = 'kukeon_kukeon_kukeond_kukeond';

const SYSTEM = `apiVersion: v1beta1
kind: Realm
metadata: { name: kukeon-system }
---
apiVersion: v1beta1
kind: Space
metadata: { name: kukeon }
spec: { realmId: kukeon-system }
---
apiVersion: v1beta1
kind: Stack
metadata: { name: kukeon }
spec: { realmId: kukeon-system, spaceId: kukeon }
`;

// The stand-in for kukeond: logs its start and its SIGTERM, as the daemon does, and runs until stopped.
const KUKEOND_CELL = `apiVersion: v1beta1
kind: Cell
metadata: { name: kukeond }
spec:
  realmId: kukeon-system
  spaceId: kukeon
  stackId: kukeon
  containers:
    - id: kukeond
      image: "${BUSYBOX_IMAGE_REF}"
      hostNetwork: true
      command: sh
      args: ["-c", "echo kukeond up; trap 'echo kukeond got TERM; exit 0' TERM; while true; do sleep 0.2; done"]
`;

const WEB_CELL = `apiVersion: v1beta1
kind: Cell
metadata: { name: web }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: w, image: "${BUSYBOX_IMAGE_REF}", command: sleep, args: ["600"] }
`;

interface Report {
  ok: boolean;
  lines: { section: string; check: string; status: string; detail: string }[];
}

e2eSuite('kuke daemon and kuke status on containerd', (test) => {
  let h: E2EHarness;
  let client: ContainerdClient;
  let daemon: Daemon | undefined;
  const socket = () => path.join(h.tmp, 'sock', 'kukeond.sock');
  const kuke = (args: string[]) => h.kuke([...args, '--socket', socket()], { timeoutMs: 120_000 });
  const ok = async (args: string[], input?: string) => {
    const r = await h.kuke(args, { input, timeoutMs: 120_000 });
    assert.is(r.code, 0, `kuke ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const task = (ns: string, id: string) => client.tasks.get(ns, id).catch(() => undefined);
  const status = async (): Promise<{ code: number; report: Report; stderr: string }> => {
    const r = await kuke(['status', '--json']);
    return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
  };

  test.before(async () => {
    // uvu reports nothing when a before hook throws: say why here
    try {
      await setUp();
    } catch (err) {
      console.error(`set-up failed: ${(err as Error).stack}`);
      throw err;
    }
  });

  const setUp = async () => {
    h = await E2EHarness.start({
      name: 'ops',
      plugins: ({ tmp, cgroupRoot }) => ({
        cni: tempCniTable(tmp),
        cgroupv2: { root: cgroupRoot },
      }),
    });
    client = new ContainerdClient(h.socket);
    const archive = await buildBusyboxOciFile(h.tmp);
    await ok(['apply', '-f', '-', '--force-system'], SYSTEM);
    await ok(['image', 'load', archive, '--realm', 'kukeon-system']);
    await ok(['apply', '-f', '-', '--force-system'], KUKEOND_CELL);
    await ok(['create', 'realm', 'main']);
    await ok(['image', 'load', archive, '--realm', 'main']);
    await ok(['apply', '-f', '-'], WEB_CELL);
  };

  test.after(async () => {
    await daemon?.kill();
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('daemon start on a running cell says so; stop ends kukeond with SIGTERM; a second stop says it was not running; logs shows both', async () => {
    const running = await task(SYSTEM_NS, KUKEOND_ID);
    assert.is(running?.status, 'RUNNING');
    const again = await kuke(['daemon', 'start', '--no-wait']);
    assert.is(again.code, 0, again.stderr);
    assert.is(again.stdout, `kukeond is already running (pid ${running?.pid})\n`);
    assert.is((await task(SYSTEM_NS, KUKEOND_ID))?.pid, running?.pid, 'nothing was restarted');

    const stop = await kuke(['daemon', 'stop', '--timeout', '5']);
    assert.is(stop.code, 0, stop.stderr);
    assert.is(stop.stdout, 'kukeond stopped\n');
    assert.is(await task(SYSTEM_NS, KUKEOND_ID), undefined, "kukeond's task is gone");
    assert.ok(!fs.existsSync(`/proc/${running?.pid}`), 'its process ended');
    const second = await kuke(['daemon', 'stop']);
    assert.is(second.stdout, 'kukeond was not running\n');

    const logs = await kuke(['daemon', 'logs']);
    assert.is(logs.code, 0, logs.stderr);
    assert.is(logs.stdout, 'kukeond up\nkukeond got TERM\n', 'graceful: it saw the SIGTERM');
  });

  test('daemon start after kill -9 of kukeond: what survived (the root) is cleared and kukeond runs again', async () => {
    const started = await kuke(['daemon', 'start', '--no-wait']);
    assert.is(started.code, 0, started.stderr);
    const first = await task(SYSTEM_NS, KUKEOND_ID);
    assert.is(first?.status, 'RUNNING');
    assert.is(started.stdout, `kukeond started (pid ${first?.pid})\n`);
    const rootId = 'kukeon_kukeon_kukeond_root';
    const rootBefore = await task(SYSTEM_NS, rootId);
    assert.is(rootBefore?.status, 'RUNNING');

    process.kill(first!.pid, 'SIGKILL');
    await waitFor('the killed task to stop', async () => (await task(SYSTEM_NS, KUKEOND_ID))?.status === 'STOPPED');
    assert.is((await task(SYSTEM_NS, rootId))?.status, 'RUNNING', 'the root survived the crash');

    const restarted = await kuke(['daemon', 'start', '--no-wait']);
    assert.is(restarted.code, 0, restarted.stderr);
    const second = await task(SYSTEM_NS, KUKEOND_ID);
    assert.is(second?.status, 'RUNNING');
    assert.is.not(second?.pid, first?.pid);
    assert.is(restarted.stdout, `kukeond started (pid ${second?.pid})\n`);
    const rootAfter = await task(SYSTEM_NS, rootId);
    assert.is(rootAfter?.status, 'RUNNING');
    assert.is.not(rootAfter?.pid, rootBefore?.pid, 'the surviving root was replaced, not reused half-dead');
    const cell = await ok(['get', 'cell', 'kukeond', '--realm', 'kukeon-system', '--space', 'kukeon', '--stack', 'kukeon']);
    assert.match(cell.stdout, /^kukeond\s+kukeon-system\s+kukeon\s+kukeon\s+Ready/m);
  });

  test('daemon restart waits until the daemon answers on the socket; with nobody answering it fails after --wait-timeout', async () => {
    const t0 = Date.now();
    const silent = await kuke(['daemon', 'restart', '--timeout', '5', '--wait-timeout', '2']);
    assert.is(silent.code, 1);
    assert.match(silent.stdout, /^kukeond restarted \(pid \d+\)\n$/);
    assert.match(silent.stderr, `kukeond did not answer on ${socket()} within 2 s`);
    assert.ok(Date.now() - t0 >= 2000);
    assert.is((await task(SYSTEM_NS, KUKEOND_ID))?.status, 'RUNNING', 'the cell runs; only the ping is missing');

    // A real kukeond comes up 1.5 s into the wait: the restart returns once it answers.
    const waiting = kuke(['daemon', 'restart', '--timeout', '5']);
    await new Promise((r) => setTimeout(r, 1500));
    daemon = await startDaemon({
      socket: socket(),
      runPath: h.runPath,
      config: h.configFile,
      prefix: ['nsenter', `--net=${h.netnsPath}`],
    });
    const answered = await waiting;
    assert.is(answered.code, 0, answered.stderr);
    assert.match(answered.stdout, new RegExp(`^kukeond restarted \\(pid \\d+\\)\\nkukeond answers on ${socket()} \\(v[0-9.]+\\)\\n$`));
  });

  test('kuke status with a running daemon and containerd: no FAIL, every section reported, parity OK; exit 0', async () => {
    assert.ok(daemon, 'the daemon of the wait test runs');
    const { code, report, stderr } = await status();
    const fails = report.lines.filter((l) => l.status === 'FAIL');
    assert.equal(fails, [], stderr);
    assert.is(code, 0);
    assert.ok(report.ok);
    const sections = new Set(report.lines.map((l) => l.section));
    for (const s of ['daemon', 'containerd', 'cgroups', 'cni', 'store', 'parity']) assert.ok(sections.has(s), `section ${s}`);
    const line = (section: string, check: string) => report.lines.find((l) => l.section === section && l.check === check);
    assert.is(line('daemon', 'ping')?.detail, `kukeond answers on ${socket()} (pid ${daemon?.pid})`);
    assert.is(line('daemon', 'version')?.status, 'OK');
    assert.match(line('containerd', 'containerd')?.detail ?? '', `${h.socket}: containerd `);
    assert.is(
      line('parity', 'tasks')?.detail,
      "2 Ready cell(s) have their 4 task(s); 4 task(s) in kukeon's namespaces all have their YAML",
    );
    const text = await kuke(['status']);
    assert.is(text.code, 0, text.stderr);
    assert.match(text.stdout, /^OK\s+parity\s+tasks\s+2 Ready cell/m);
  });

  test('daemon logs -f follows kukeond until it exits; start refuses while a kukeond outside the cell holds the socket', async () => {
    const following = kuke(['daemon', 'logs', '-f']);
    await new Promise((r) => setTimeout(r, 1000));
    const stop = await kuke(['daemon', 'stop', '--timeout', '5']);
    assert.is(stop.code, 0, stop.stderr);
    const r = await following;
    assert.is(r.code, 0, r.stderr);
    assert.ok(r.stdout.endsWith('kukeond up\nkukeond got TERM\n'), `followed to the end:\n${r.stdout}`);
    const refused = await kuke(['daemon', 'start', '--no-wait']);
    assert.is(refused.code, 1);
    assert.is(
      refused.stderr,
      `Error: a kukeond outside the system cell already answers on ${socket()} (pid ${daemon?.pid}); stop it first (systemctl stop kukeond, or end that process) [KUKEON_E_STATE]\n`,
    );
    assert.is(await task(SYSTEM_NS, KUKEOND_ID), undefined, 'nothing was started');
    await daemon?.stop();
    daemon = undefined;
    await ok(['daemon', 'start', '--no-wait']);
  });

  test("parity FAILs when a Ready cell's root task is killed behind kukeon's back, and for a stray task in a kukeon namespace", async () => {
    // No daemon runs (the test before stopped it): nothing may notice the kill and fix the YAML before status looks.
    assert.is(daemon, undefined);
    const rootId = 'blog_wp_web_root';
    const root = await task(MAIN_NS, rootId);
    assert.is(root?.status, 'RUNNING');
    process.kill(root!.pid, 'SIGKILL');
    await waitFor('the root to stop', async () => (await task(MAIN_NS, rootId))?.status === 'STOPPED');
    const broken = await status();
    assert.is(broken.code, 1);
    const parity = broken.report.lines.filter((l) => l.section === 'parity');
    assert.equal(
      parity.map((l) => [l.status, l.check, l.detail]),
      [['FAIL', 'cell/main/blog/wp/web', `cell/main/blog/wp/web is Ready but its root task ${rootId} is stopped`]],
    );
    assert.is(broken.report.lines.find((l) => l.section === 'daemon')?.status, 'FAIL', 'the daemon is down too');

    const restart = await ok(['restart', 'web', '--realm', 'main', '--space', 'blog', '--stack', 'wp', '--timeout', '0']);
    assert.is(restart.code, 0);
    const healed = await status();
    assert.equal(
      healed.report.lines.filter((l) => l.section === 'parity').map((l) => l.status),
      ['OK'],
    );

    const stray = await h.ctr([
      '-n',
      MAIN_NS,
      'run',
      '-d',
      '--cgroup',
      `/${h.cgroupRoot}/stray`,
      BUSYBOX_IMAGE_REF,
      'stray-1',
      'sleep',
      '600',
    ]);
    assert.is(stray.code, 0, stray.stderr);
    const withStray = await status();
    assert.is(withStray.code, 1);
    assert.equal(
      withStray.report.lines.filter((l) => l.section === 'parity').map((l) => [l.status, l.check]),
      [['FAIL', `task stray-1 in namespace ${MAIN_NS}`]],
    );
    assert.match(withStray.report.lines.find((l) => l.section === 'parity')?.detail ?? '', 'has no kukeon labels');
  });
});
