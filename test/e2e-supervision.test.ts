// The daemon's supervisor on a private containerd, kukeond as a real process: restart policies after real exits
// (kill -9 of a container's process, commands that exit), the YAML status they leave, user stops, a root that
// dies, and containerd restarting under the daemon. Prints the measured time from a kill to the restart.

import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import type { CellStatus, ContainerStatus } from '../sdk';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { E2EHarness } from './e2e/harness';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { buildBusyboxOciFile } from './helpers/busybox-oci';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { waitFor } from './helpers/wait-for';

const IMAGE = 'docker.io/kukeon/busybox:test';
const NS = 'kukeon-main';
const SCOPE = ['--realm', 'main', '--space', 'blog', '--stack', 'wp'];

interface Workload {
  id?: string;
  script: string;
  policy?: string;
  retries?: number;
  backoff?: number;
  memoryMax?: string;
}

const cell = (name: string, ...workloads: Workload[]) => `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
${workloads
  .map(
    (w) =>
      `    - id: ${w.id ?? 'w'}
      image: "${IMAGE}"
      command: sh
      args: ["-c", ${JSON.stringify(w.script)}]
${w.policy ? `      restartPolicy: ${w.policy}\n` : ''}${w.retries !== undefined ? `      restartMaxRetries: ${w.retries}\n` : ''}${w.backoff !== undefined ? `      restartBackoffSeconds: ${w.backoff}\n` : ''}${w.memoryMax ? `      resources: { memory: { max: ${w.memoryMax} } }\n` : ''}`,
  )
  .join('')}`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

e2eSuite('supervision: restart policies in kukeond', (test) => {
  let h: E2EHarness;
  let client: ContainerdClient;
  let daemon: Daemon | undefined;
  const socket = () => path.join(h.tmp, 'd', 'kukeond.sock');
  const kuke = (args: string[], input?: string): Promise<RunResult> =>
    h.kuke(args, { input, timeoutMs: 120_000, env: { KUKEON_NO_DAEMON: undefined, KUKEON_SOCKET: socket() } });
  const apply = async (text: string) => {
    const r = await kuke(['apply', '-f', '-'], text);
    assert.is(r.code, 0, `apply: ${r.stderr}`);
  };
  const cellStatus = (name: string): CellStatus =>
    (YAML.parse(fs.readFileSync(path.join(h.runPath, 'main', 'blog', 'wp', name, 'cell.yaml'), 'utf8')) as { status?: CellStatus })
      .status ?? {};
  const status = (name: string, id = 'w'): ContainerStatus =>
    (
      YAML.parse(fs.readFileSync(path.join(h.runPath, 'main', 'blog', 'wp', name, 'containers', `${id}.yaml`), 'utf8')) as {
        status?: ContainerStatus;
      }
    ).status ?? {};
  const task = (name: string, id = 'w') => client.tasks.get(NS, `blog_wp_${name}_${id}`).catch(() => undefined);
  /** The pid of the container's running task, once it runs with a pid other than `not`. */
  const runningPid = async (name: string, id = 'w', not?: number, timeoutMs = 10_000): Promise<number> => {
    let pid = 0;
    await waitFor(
      `${name}/${id} running${not ? ` again (not pid ${not})` : ''}`,
      async () => {
        const t = await task(name, id);
        if (t?.status === 'RUNNING' && t.pid !== not) pid = t.pid;
        return pid !== 0;
      },
      timeoutMs,
      5,
    );
    return pid;
  };
  const diag = () => `\ndaemon stderr (tail):\n${daemon?.stderr().split('\n').slice(-30).join('\n')}`;

  test.before(async () => {
    h = await E2EHarness.start({ name: 'supervision', plugins: (p) => ({ cgroupv2: { root: p.cgroupRoot } }) });
    client = new ContainerdClient(h.socket);
    const archive = await buildBusyboxOciFile(h.tmp);
    daemon = await startDaemon({
      socket: socket(),
      runPath: h.runPath,
      config: h.configFile,
      env: { DEBUG: process.env.KUKEON_TEST_DAEMON_DEBUG ?? 'kukeon:supervisor,kukeon:containerd', KUKEON_RECONCILE_INTERVAL: '30' },
    });
    assert.is((await kuke(['create', 'realm', 'main'])).code, 0);
    const loaded = await kuke(['image', 'load', archive, '--realm', 'main']);
    assert.is(loaded.code, 0, loaded.stderr);
  });

  test.after(async () => {
    if (process.env.KUKEON_TEST_DAEMON_LOG && daemon) fs.writeFileSync(process.env.KUKEON_TEST_DAEMON_LOG, daemon.stderr());
    await kuke(['purge', 'realm', 'main', '--cascade']).catch(() => undefined);
    await daemon?.stop();
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('always, after kill -9: the exit is in the YAML within 1 s, restarted after the backoff (count 1), then after a doubled one (count 2)', async () => {
    await apply(cell('al', { script: 'exec sleep 600', policy: 'always', backoff: 1 }));
    const gaps: number[] = [];
    let pid = await runningPid('al');
    for (const round of [1, 2]) {
      const killed = Date.now();
      process.kill(pid, 'SIGKILL');
      await waitFor(
        'the exit in the YAML',
        () => status('al').exitSignal === 'SIGKILL' && status('al').reason === 'CrashLoopBackOff',
        2000,
        5,
      );
      const recorded = Date.now() - killed;
      assert.ok(recorded < 1000, `the exit reached the YAML in ${recorded} ms`);
      const pending = status('al');
      assert.is(pending.exitCode, 137);
      assert.is(pending.state, 'Exited');
      assert.ok(pending.nextRestartAt, 'nextRestartAt while the restart is pending');
      assert.is(cellStatus('al').state, 'Degraded');
      pid = await runningPid('al', 'w', pid);
      gaps.push(Date.now() - killed);
      await waitFor('the restart in the YAML', () => status('al').state === 'Ready' && status('al').restartCount === round, 2000, 10);
      const st = status('al');
      assert.is(st.exitCode, 137, 'the last exit is kept');
      assert.is(st.nextRestartAt, undefined);
      assert.ok(st.restartTime);
      assert.is(cellStatus('al').state, 'Ready');
    }
    assert.ok(gaps[0] >= 1000 && gaps[0] < 2500, `first restart after ${gaps[0]} ms (backoff 1 s)`);
    assert.ok(gaps[1] >= 2000 && gaps[1] < 3500, `second restart after ${gaps[1]} ms (backoff doubled to 2 s)`);
    console.log(`# always, backoff 1 s: restarts ${gaps.join(' ms, ')} ms after the kill`);
  });

  test('time from kill -9 to the restart under always with backoff 0.1 s (median of 5 cells)', async () => {
    const names = ['m1', 'm2', 'm3', 'm4', 'm5'];
    await apply(names.map((n) => cell(n, { script: 'exec sleep 600', policy: 'always', backoff: 0.1 })).join('---\n'));
    const times: number[] = [];
    for (const n of names) {
      const pid = await runningPid(n);
      const killed = Date.now();
      process.kill(pid, 'SIGKILL');
      await runningPid(n, 'w', pid);
      times.push(Date.now() - killed);
    }
    const m = median(times);
    console.log(`# exit-to-restart under always, backoff 0.1 s: median ${m} ms (${times.join(', ')} ms)`);
    assert.ok(m >= 100, 'never before the backoff');
    assert.ok(m < 1500, `median ${m} ms`);
    await waitFor('every restart recorded', () => names.every((n) => status(n).restartCount === 1), 2000, 10);
  });

  test('on-failure with restartMaxRetries 2 on a command that exits 3: two restarts, then Failed', async () => {
    await apply(cell('of', { script: 'exit 3', policy: 'on-failure', retries: 2, backoff: 0.1 }));
    // the cell's document is written just before its containers'
    await waitFor('the cell Failed', () => cellStatus('of').state === 'Failed' && status('of').state === 'Failed', 10_000, 20).catch(
      (e) => {
        throw new Error(`${(e as Error).message}: ${JSON.stringify({ cell: cellStatus('of'), w: status('of') })}${diag()}`);
      },
    );
    const st = status('of');
    assert.is(st.state, 'Failed');
    assert.is(st.restartCount, 2);
    assert.is(st.exitCode, 3);
    assert.is(st.reason, 'Error');
    assert.match(st.message ?? '', 'gave up after 2 restarts');
    assert.is(cellStatus('of').reason, 'Error');
    await new Promise((r) => setTimeout(r, 1000));
    assert.is(status('of').restartCount, 2, 'no third restart');
    assert.is((await task('of'))?.status, 'STOPPED');
  });

  test('on-failure and exit 0: not restarted, reason Completed; never and a non-zero exit or a kill -9: not restarted', async () => {
    await apply(
      [
        cell('ok', { script: 'exit 0', policy: 'on-failure', backoff: 0.1 }),
        cell('nv', { script: 'sleep 1; exit 1', policy: 'never' }),
        cell('nk', { script: 'exec sleep 600' }),
      ].join('---\n'),
    );
    const pid = await runningPid('nk');
    process.kill(pid, 'SIGKILL');
    await waitFor('the exits recorded', () => !!status('ok').reason && !!status('nv').reason && !!status('nk').reason, 10_000, 20);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(
      [status('ok').state, status('ok').reason, status('ok').exitCode, status('ok').restartCount],
      ['Exited', 'Completed', 0, undefined],
    );
    assert.equal(
      [status('nv').state, status('nv').reason, status('nv').exitCode, status('nv').restartCount],
      ['Exited', 'Error', 1, undefined],
    );
    assert.equal(
      [status('nk').state, status('nk').reason, status('nk').exitSignal, status('nk').restartCount],
      ['Exited', 'Killed', 'SIGKILL', undefined],
    );
    for (const n of ['ok', 'nv', 'nk']) {
      assert.is(cellStatus(n).state, 'Exited', `cell ${n}`);
      assert.is((await task(n))?.status, 'STOPPED', `${n} was not started again`);
    }
  });

  test('kuke stop under always: stoppedByUser, not restarted while the daemon runs; kuke start clears it', async () => {
    await apply(cell('st', { script: 'exec sleep 600', policy: 'always', backoff: 0.1 }));
    await runningPid('st');
    const stopped = await kuke(['stop', 'st', ...SCOPE, '--timeout', '0']);
    assert.is(stopped.code, 0, stopped.stderr);
    assert.is(status('st').stoppedByUser, true);
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(cellStatus('st').state, 'Stopped');
    assert.is(await task('st'), undefined, 'no task: not restarted');
    const started = await kuke(['start', 'st', ...SCOPE]);
    assert.is(started.code, 0, started.stderr);
    assert.is(status('st').stoppedByUser, undefined, 'a user start clears it');
    const k = await kuke(['kill', 'st', ...SCOPE]);
    assert.is(k.code, 0, k.stderr);
    assert.is(status('st').stoppedByUser, true, 'kill too');
    await new Promise((r) => setTimeout(r, 1000));
    assert.is(await task('st'), undefined);
  });

  test('a root that dies takes its workloads down; the cell restarts as a whole when a policy asks', async () => {
    await apply(cell('rt', { script: 'exec sleep 600', policy: 'always', backoff: 0.1 }));
    const w = await runningPid('rt');
    const root = await runningPid('rt', 'root');
    process.kill(root, 'SIGKILL');
    const newRoot = await runningPid('rt', 'root', root);
    const newW = await runningPid('rt', 'w', w);
    assert.ok(newRoot !== root && newW !== w);
    await waitFor('the cell Ready again', () => cellStatus('rt').state === 'Ready' && status('rt').restartCount === 1, 5000, 20);
    assert.is(fs.existsSync(`/proc/${w}`), false, 'the old workload is gone');
  });

  test('a root that dies under never: the cell is Stopped with the root exit as its reason, its workload gone', async () => {
    await apply(cell('rn', { script: 'exec sleep 600' }));
    await runningPid('rn');
    process.kill(await runningPid('rn', 'root'), 'SIGKILL');
    await waitFor('the cell Stopped', () => cellStatus('rn').state === 'Stopped', 5000, 20);
    assert.is(cellStatus('rn').reason, 'Killed');
    assert.match(cellStatus('rn').message ?? '', 'the root killed by SIGKILL');
    assert.is(await task('rn'), undefined, 'the workload went with its root');
  });

  test('a container the OOM killer ends: reason OOMKilled', async () => {
    // sh keeps 64 MiB of output in a variable under a 16 MiB limit
    await apply(cell('oom', { script: 'x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo survived', memoryMax: '16Mi' }));
    await waitFor('the exit recorded', () => !!status('oom').reason, 10_000, 20).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(status('oom'))}${diag()}`);
    });
    assert.is(status('oom').reason, 'OOMKilled', JSON.stringify(status('oom')));
    assert.is(cellStatus('oom').state, 'Exited');
  });

  test('containerd restarted: cells keep running with the right status, and an exit after the reconnect is handled', async () => {
    await apply(cell('cr', { script: 'exec sleep 600', policy: 'always', backoff: 0.1 }));
    const pid = await runningPid('cr');
    const count = status('cr').restartCount ?? 0;
    await h.restartContainerd('SIGKILL', async () => {
      const got = await kuke(['get', 'cells', ...SCOPE]);
      assert.is(got.code, 0, `the daemon serves while containerd is down: ${got.stderr}`);
      await new Promise((r) => setTimeout(r, 500));
      assert.is(cellStatus('cr').state, 'Ready', 'containerd away is not an exit');
    });
    assert.is((await task('cr'))?.pid, pid, 'the shim kept the container');
    assert.is((await task('al'))?.status, 'RUNNING');
    // the daemon's channel reconnects on its own backoff (at most 1 s): live status may say Unknown until then
    let got = '';
    await waitFor(
      'every cell Ready through the daemon',
      async () => {
        got = (await kuke(['get', 'cells', ...SCOPE])).stdout;
        return ['al', 'cr', 'rt', 'm1'].every((n) => new RegExp(`^${n}\\s.*Ready`, 'm').test(got));
      },
      5000,
      200,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}:\n${got}`);
    });
    // an exit while containerd is down: no event reaches the daemon while it is away, the resync finds it
    await h.restartContainerd('SIGKILL', async () => void process.kill(pid, 'SIGKILL'));
    const again = await runningPid('cr', 'w', pid, 15_000).catch((e) => {
      throw new Error(`${(e as Error).message}${diag()}`);
    });
    assert.ok(again !== pid);
    await waitFor('the restart recorded', () => status('cr').restartCount === count + 1 && cellStatus('cr').state === 'Ready', 5000, 20);
    // and once the stream is back, the next exit goes through the event path again
    await new Promise((r) => setTimeout(r, 1500));
    const killed = Date.now();
    process.kill(again, 'SIGKILL');
    await runningPid('cr', 'w', again, 5000);
    console.log(`# after a containerd restart: exit-to-restart ${Date.now() - killed} ms`);
    await waitFor('the second restart recorded', () => status('cr').restartCount === count + 2, 5000, 20);
    for (const n of ['al', 'm1', 'rt']) assert.is(cellStatus(n).state, 'Ready', `cell ${n} is still Ready`);
    assert.is((await task('al'))?.status, 'RUNNING');
  });
});
