// `kuke daemon` and `kuke status` against the real thing: `kuke init` on temporary paths runs kukeond as the
// container kukeond of the system cell (supervised by containerd's restart monitor); stop holds it down (the
// monitor does not bring it back), start and restart bring it back and wait for its answer, logs shows what it
// printed, a SIGKILLed kukeond is started again, and status reports the host as it is at each step.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { groupId } from '../sdk';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { E2EHarness, tempCniTable } from './e2e/harness';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { waitFor } from './helpers/wait-for';

const SYSTEM_NS = 'kukeon-kukeon-system';
const KUKEOND_ID = 'kukeon_kukeon_kukeond_kukeond';

interface Report {
  ok: boolean;
  lines: { section: string; check: string; status: string; detail: string }[];
}

e2eSuite('kuke daemon and kuke status on a kukeond that kuke init runs', (test) => {
  let h: E2EHarness;
  let client: ContainerdClient;
  const group = `kt-${randomBytes(3).toString('hex')}`;
  const socket = () => path.join(h.tmp, 'sock', 'kukeond.sock');
  const flags = () => ['--run-path', h.runPath, '--socket', socket(), '--config', h.configFile, '--containerd-socket', h.socket];
  const kuke = (args: string[]): Promise<RunResult> => h.kuke([...args, ...flags()], { timeoutMs: 120_000 });
  const ok = async (args: string[]) => {
    const r = await kuke(args);
    assert.is(r.code, 0, `kuke ${args.join(' ')}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  };
  const task = () => client.tasks.get(SYSTEM_NS, KUKEOND_ID).catch(() => undefined);
  const status = async (): Promise<{ code: number; report: Report }> => {
    const r = await kuke(['status', '--json']);
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  };
  const section = (report: Report, s: string) => report.lines.filter((l) => l.section === s).map((l) => [l.status, l.check]);

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
    assert.is(groupId(group), undefined, `group ${group} exists before the test`);
    h = await E2EHarness.start({
      name: 'ops-init',
      // the restart monitor checks every 1 s: a stopped kukeond it would bring back shows within the test's wait
      containerdConfigExtra: '[plugins."io.containerd.internal.v1.restart"]\n  interval = "1s"\n',
      plugins: ({ tmp, cgroupRoot }) => ({
        cgroupv2: { root: cgroupRoot },
        cni: tempCniTable(tmp),
      }),
    });
    client = new ContainerdClient(h.socket);
    await ok(['init', '--group', group]);
  };

  test.after(async () => {
    if (h && fs.existsSync(h.runPath)) await kuke(['uninstall', '-y', '--group', group]).catch(() => undefined);
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('status after init: the daemon in its container answers, parity holds, no FAIL; daemon start says it runs', async () => {
    const { code, report } = await status();
    assert.equal(
      report.lines.filter((l) => l.status === 'FAIL'),
      [],
    );
    assert.is(code, 0);
    assert.equal(section(report, 'daemon'), [
      ['OK', 'ping'],
      ['OK', 'version'],
    ]);
    const t = await task();
    assert.is(t?.status, 'RUNNING');
    assert.is(report.lines[0].detail, `kukeond answers on ${socket()} (pid ${t?.pid})`, 'the pid is the container task');
    assert.is(report.lines.find((l) => l.section === 'parity')?.status, 'OK');
    const again = await ok(['daemon', 'start']);
    assert.is(
      again.stdout,
      `kukeond is already running (pid ${t?.pid})\nkukeond answers on ${socket()} (v${/v([0-9.]+)/.exec(report.lines[1].detail)?.[1]})\n`,
    );
  });

  test('daemon stop: kukeond ends, the restart monitor leaves it down, status FAILs the ping and says how to start it', async () => {
    const before = await task();
    const r = await ok(['daemon', 'stop', '--timeout', '10']);
    assert.is(r.stdout, 'kukeond stopped\n');
    assert.is(await task(), undefined);
    await new Promise((res) => setTimeout(res, 3000)); // three restart-monitor intervals
    assert.is(await task(), undefined, 'not brought back by containerd');
    assert.not.ok(fs.existsSync(`/proc/${before?.pid}`));
    const { code, report } = await status();
    assert.is(code, 1);
    const ping = report.lines.find((l) => l.section === 'daemon' && l.check === 'ping');
    assert.is(ping?.status, 'FAIL');
    assert.match((ping as { remedy?: string })?.remedy ?? '', 'kuke daemon start');
  });

  test('daemon start brings it back and waits for the answer; restart replaces it; logs shows each start', async () => {
    const t0 = Date.now();
    const started = await ok(['daemon', 'start']);
    const first = await task();
    assert.is(first?.status, 'RUNNING');
    assert.match(
      started.stdout,
      new RegExp(`^kukeond started \\(pid ${first?.pid}\\)\\nkukeond answers on ${socket()} \\(v[0-9.]+\\)\\n$`),
    );
    console.log(`  kuke daemon start to an answer: ${Date.now() - t0} ms`);

    const restarted = await ok(['daemon', 'restart', '--timeout', '10']);
    const second = await task();
    assert.is(second?.status, 'RUNNING');
    assert.is.not(second?.pid, first?.pid);
    assert.match(restarted.stdout, new RegExp(`^kukeond restarted \\(pid ${second?.pid}\\)\\nkukeond answers on ${socket()}`));

    const logs = await ok(['daemon', 'logs']);
    // init's start, this test's start and its restart
    assert.is((logs.stdout.match(/ serving /g) ?? []).length, 3, logs.stdout);
  });

  test('daemon start right after kill -9 of kukeond, five times (racing the restart monitor): it runs again and answers', async () => {
    for (let round = 1; round <= 5; round++) {
      const t = await task();
      process.kill(t!.pid, 'SIGKILL');
      await waitFor('the task to stop', async () => (await task())?.pid !== t?.pid || (await task())?.status !== 'RUNNING', 10_000, 20);
      // a few ms up to about one monitor interval: the start meets the monitor's restart at different points
      await new Promise((res) => setTimeout(res, (round - 1) * 250));
      const r = await ok(['daemon', 'start']);
      assert.match(r.stdout, new RegExp(`kukeond answers on ${socket()}`), `round ${round}`);
      const after = await task();
      assert.is(after?.status, 'RUNNING', `round ${round}`);
      assert.is.not(after?.pid, t?.pid, `round ${round}`);
    }
    const { code } = await status();
    assert.is(code, 0);
  });

  test('daemon logs -f follows kukeond until daemon stop ends it', async () => {
    const following = kuke(['daemon', 'logs', '-f']);
    await new Promise((res) => setTimeout(res, 1000));
    await ok(['daemon', 'stop']);
    const r = await following;
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, / serving /);
    await ok(['daemon', 'start']);
  });
});
