// Reliability: apply converges the runtime to the spec. A `delete cell --force` is killed (SIGKILL, failpoint
// `cell.after.<step>`) after each step of its stop, in-process and inside kukeond, on the private containerd with
// CNI and cgroups: the cell's YAML still says Ready while tasks are gone. `get` must read the live tasks (not
// Ready), and re-applying the same manifest must start what is missing (network re-attached when the root went)
// and report it, then a second apply is unchanged and the daemon's supervisor leaves the converged cell alone.
// CI runs one kill point per transport, one with the root still alive and one without (under a minute here);
// KUKEON_RELIABILITY=full runs every stop step through each (8 kills, about 1.5 min). Prints `reliability converge: kills N, converged N, not converged 0`.

import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import type { CellStatus, ContainerStatus } from '../../sdk';
import { ContainerdClient } from '../../plugins/containerd/grpc/containerd-client';
import { CNI_BIN, E2EHarness, runCommand, tempCniTable } from '../e2e/harness';
import type { RunResult } from '../e2e/harness';
import { e2eSuite } from '../e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from '../helpers/busybox-oci';
import type { Daemon } from '../helpers/daemon';
import { startDaemon } from '../helpers/daemon';
import { waitFor } from '../helpers/wait-for';

const FULL = process.env.KUKEON_RELIABILITY === 'full';
/** The stop steps a delete is killed after, per transport: the CI sample, or all of them. */
const KILL_POINTS: Record<'in-process' | 'kukeond', string[]> = FULL
  ? {
      'in-process': ['stopWorkloads', 'detachNetwork', 'stopRoot', 'release'],
      kukeond: ['stopWorkloads', 'detachNetwork', 'stopRoot', 'release'],
    }
  : { 'in-process': ['stopWorkloads'], kukeond: ['stopRoot'] };
/** Steps after which the root still runs (the kill came before stopRoot). */
const ROOT_ALIVE = new Set(['stopWorkloads', 'detachNetwork']);
const WORKLOADS = ['a', 'b'];
/** The daemon's periodic reconcile, short so the test sees it pass over a converged cell. */
const RECONCILE_S = 1;
const missingCni = ['bridge', 'host-local', 'portmap'].filter((b) => !fs.existsSync(path.join(CNI_BIN, b)));

/** A container that exits at once on SIGTERM (a bare `sleep` as PID 1 ignores it). */
const sleeper = (id: string, extra = '') =>
  `    - { id: ${id}, image: "${BUSYBOX_IMAGE_REF}", command: sh, args: ["-c", "trap 'exit 0' TERM; sleep 600 & wait"]${extra} }\n`;

const tree = (realm: string, subnet: string) => `apiVersion: v1beta1
kind: Realm
metadata: { name: ${realm} }
---
apiVersion: v1beta1
kind: Space
metadata: { name: blog }
spec: { realmId: ${realm}, network: { subnet: ${subnet} } }
---
apiVersion: v1beta1
kind: Stack
metadata: { name: wp }
spec: { realmId: ${realm}, spaceId: blog }
`;

const cellDoc = (realm: string, name: string, containers = WORKLOADS.map((id) => sleeper(id)).join('')) => `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: ${realm}
  spaceId: blog
  stackId: wp
  containers:
${containers}`;

interface ApplyJson {
  items: { ref: string; action: string; changes?: string[]; error?: string }[];
}

interface GetCell {
  status: CellStatus;
}

e2eSuite('reliability converge: apply converges a cell whose delete was killed', (test) => {
  let h: E2EHarness;
  let client: ContainerdClient;
  let archive: string;
  let daemon: Daemon | undefined;
  let kills = 0;
  let converged = 0;

  const socket = () => path.join(h.tmp, 'd', 'kukeond.sock');
  const daemonRunPath = () => path.join(h.tmp, 'daemon-state');

  /** One way to run kuke: in-process (its own run path and realm) or through kukeond (another run path and realm). */
  interface Transport {
    name: 'in-process' | 'kukeond';
    realm: string;
    subnet: string;
    runPath: () => string;
    kuke(args: string[], input?: string, env?: Record<string, string>): Promise<RunResult>;
    /** Runs `args` so that it dies at failpoint `point`; resolves once it did (and kukeond serves again). */
    killedAt(point: string, args: string[]): Promise<void>;
  }

  const startKukeond = async (env: Record<string, string> = {}) => {
    daemon = await startDaemon({
      socket: socket(),
      runPath: daemonRunPath(),
      config: h.configFile,
      prefix: ['nsenter', `--net=${h.netnsPath}`],
      env: { KUKEON_RECONCILE_INTERVAL: String(RECONCILE_S), ...env },
      readyTimeoutMs: 60_000,
    });
  };

  const inProcess: Transport = {
    name: 'in-process',
    realm: 'conv',
    subnet: '10.88.1.0/24',
    runPath: () => h.runPath,
    kuke: (args, input, env) => h.kuke(args, { input, timeoutMs: 120_000, env }),
    async killedAt(point, args) {
      const r = await this.kuke(args, undefined, { KUKEON_FAILPOINTS: `${point}=kill` });
      assert.is(r.signal, 'SIGKILL', `kuke ${args.join(' ')} should die at ${point}: exit ${r.code}, ${r.stderr}`);
    },
  };

  const viaDaemon: Transport = {
    name: 'kukeond',
    realm: 'convd',
    subnet: '10.88.2.0/24',
    runPath: daemonRunPath,
    kuke: (args, input, env) =>
      h.kuke(args, {
        input,
        timeoutMs: 120_000,
        env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket(), ...env },
      }),
    async killedAt(point, args) {
      await daemon?.stop();
      await startKukeond({ KUKEON_FAILPOINTS: `${point}=kill` });
      const r = await this.kuke(args);
      assert.is.not(r.code, 0, `kuke ${args.join(' ')} through kukeond should fail when kukeond dies at ${point}`);
      const end = await daemon!.exited;
      assert.is(end.signal, 'SIGKILL', `kukeond should die at ${point}: ${JSON.stringify(end)}\n${daemon!.stderr()}`);
      await startKukeond();
    },
  };

  const ok = async (t: Transport, args: string[], input?: string) => {
    const r = await t.kuke(args, input);
    assert.is(r.code, 0, `[${t.name}] kuke ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const scope = (t: Transport) => ['--realm', t.realm, '--space', 'blog', '--stack', 'wp'];
  const yamlOf = <T>(t: Transport, ...rel: string[]): T =>
    (YAML.parse(fs.readFileSync(path.join(t.runPath(), t.realm, 'blog', 'wp', ...rel), 'utf8')) as { status: T }).status;
  const cellYaml = (t: Transport, name: string) => yamlOf<CellStatus>(t, name, 'cell.yaml');
  const containerYaml = (t: Transport, name: string, id: string) => yamlOf<ContainerStatus>(t, name, 'containers', `${id}.yaml`);
  const task = (t: Transport, name: string, id: string) =>
    client.tasks.get(`kukeon-${t.realm}`, `blog_wp_${name}_${id}`).catch(() => undefined);
  const runningPid = async (t: Transport, name: string, id: string) => {
    const k = await task(t, name, id);
    return k?.status === 'RUNNING' ? k.pid : undefined;
  };
  const getCell = async (t: Transport, name: string): Promise<GetCell> =>
    JSON.parse(await ok(t, ['get', 'cell', name, ...scope(t), '-o', 'json'])) as GetCell;
  /** The READY column of `get cells` for the cell. */
  const readyColumn = async (t: Transport, name: string) => {
    const table = await ok(t, ['get', 'cells', ...scope(t)]);
    const [header, ...rows] = table.trim().split('\n');
    const at = header.split(/\s+/).indexOf('READY');
    const row = rows.map((r) => r.split(/\s+/)).find((r) => r[0] === name);
    assert.ok(row, `[${t.name}] get cells lists ${name}:\n${table}`);
    return { state: row![header.split(/\s+/).indexOf('STATE')], ready: row![at] };
  };
  const applyJson = async (t: Transport, name: string): Promise<ApplyJson['items'][number]> => {
    const report = JSON.parse(await ok(t, ['apply', '-f', '-', '-o', 'json'], cellDoc(t.realm, name))) as ApplyJson;
    const item = report.items.find((i) => i.ref === `cell/${t.realm}/blog/wp/${name}`);
    assert.ok(item, JSON.stringify(report));
    return item!;
  };
  /** The IPv4 addresses in the network namespace of process `pid`. */
  const addressesOf = async (pid: number) =>
    (await runCommand('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-4', '-o', 'addr', 'show'], { timeoutMs: 15_000 })).stdout;

  /** Everything a converged cell has: root, workloads in its namespaces, network, YAML and get all Ready. */
  const assertConverged = async (t: Transport, name: string) => {
    const st = cellYaml(t, name);
    assert.is(st.state, 'Ready', `[${t.name}] ${name}'s YAML`);
    const rootPid = await runningPid(t, name, 'root');
    assert.ok(rootPid, `[${t.name}] ${name}'s root runs`);
    assert.is(st.root?.pid, rootPid, 'the YAML names the running root');
    assert.ok(st.ip, `[${t.name}] ${name} has an address: ${JSON.stringify(st)}`);
    assert.match(await addressesOf(rootPid!), ` ${st.ip}/`, 'the address is on the root network namespace (network attached)');
    const rootNet = fs.readlinkSync(`/proc/${rootPid}/ns/net`);
    for (const id of WORKLOADS) {
      const pid = await runningPid(t, name, id);
      assert.ok(pid, `[${t.name}] ${name}/${id} runs`);
      assert.is(fs.readlinkSync(`/proc/${pid}/ns/net`), rootNet, `${id} is in the root's network namespace`);
      const cst = containerYaml(t, name, id);
      assert.is(cst.state, 'Ready', `${id}'s YAML`);
      assert.is(cst.pid, pid, `${id}'s YAML names its running task`);
    }
    const live = await getCell(t, name);
    assert.is(live.status.state, 'Ready', `[${t.name}] get: ${JSON.stringify(live.status)}`);
    assert.equal(
      live.status.containerStatuses?.map((c) => c.state),
      WORKLOADS.map(() => 'Ready'),
    );
    assert.equal(await readyColumn(t, name), { state: 'Ready', ready: `${WORKLOADS.length}/${WORKLOADS.length}` });
  };

  test.before(async () => {
    try {
      if (missingCni.length) throw new Error(`CNI plugins missing in ${CNI_BIN}: ${missingCni.join(', ')}`);
      h = await E2EHarness.start({
        name: 'converge',
        plugins: ({ tmp, cgroupRoot }) => ({ cni: tempCniTable(tmp), cgroupv2: { root: cgroupRoot } }),
      });
      client = new ContainerdClient(h.socket);
      archive = await buildBusyboxOciFile(h.tmp);
      await startKukeond();
      for (const t of [inProcess, viaDaemon]) {
        await ok(t, ['apply', '-f', '-'], tree(t.realm, t.subnet));
        await ok(t, ['image', 'load', archive, '--realm', t.realm]);
      }
    } catch (err) {
      console.error(`set-up failed: ${(err as Error).stack}`); // uvu says nothing when a before hook throws
      throw err;
    }
  });

  let t0 = 0;
  test.before.each(() => void (t0 = Date.now()));
  test.after.each((ctx) => void (process.env.KUKEON_E2E_TIMING && console.log(`  ${ctx.__test__}: ${Date.now() - t0} ms`)));

  test.after(async () => {
    await daemon?.stop();
    client?.close();
    console.log(`reliability converge: kills ${kills}, converged ${converged}, not converged ${kills - converged}`);
    const diff = await h?.stop();
    assert.equal(diff ?? [], [], `the host changed: ${diff?.join('; ')}`);
  });

  for (const t of [inProcess, viaDaemon])
    for (const point of KILL_POINTS[t.name])
      test(`[${t.name}] delete --force killed after ${point}: get reads the tasks, apply starts what is missing`, async () => {
        const name = `k-${point.toLowerCase()}`;
        await ok(t, ['apply', '-f', '-'], cellDoc(t.realm, name));
        await assertConverged(t, name);
        const rootBefore = await runningPid(t, name, 'root');

        kills += 1;
        await t.killedAt(`cell.after.${point}`, ['delete', 'cell', name, ...scope(t), '--force']);

        // What the kill left: the record, the root only when it came before stopRoot, and no workload task.
        assert.ok(fs.existsSync(path.join(t.runPath(), t.realm, 'blog', 'wp', name, 'cell.yaml')), 'the record is still there');
        for (const id of WORKLOADS) assert.is(await runningPid(t, name, id), undefined, `${id}'s task was removed`);
        assert.is(await runningPid(t, name, 'root'), ROOT_ALIVE.has(point) ? rootBefore : undefined);
        if (t === inProcess) assert.is(cellYaml(t, name).state, 'Ready', 'the YAML still says Ready (the last write)');

        // get's live state comes from the tasks
        const live = await getCell(t, name);
        assert.is.not(live.status.state, 'Ready', `[${t.name}] get must not say Ready: ${JSON.stringify(live.status)}`);
        assert.ok(
          live.status.containerStatuses?.every((c) => c.state !== 'Ready'),
          JSON.stringify(live.status.containerStatuses),
        );
        const column = await readyColumn(t, name);
        assert.is(column.ready, `0/${WORKLOADS.length}`);
        assert.is.not(column.state, 'Ready');

        // apply of the unchanged manifest converges, and says so
        const item = await applyJson(t, name);
        assert.is(item.action, 'updated', `[${t.name}] apply must not report ${item.action}: ${JSON.stringify(item)}`);
        assert.ok(item.changes?.length, JSON.stringify(item));
        await assertConverged(t, name);
        if (ROOT_ALIVE.has(point) && t === inProcess)
          assert.is(await runningPid(t, name, 'root'), rootBefore, 'a running root is kept: only what was missing started');
        converged += 1;

        // converged means a second apply has nothing to do; the daemon's supervisor leaves it alone too
        const pids = await Promise.all(['root', ...WORKLOADS].map((id) => runningPid(t, name, id)));
        assert.is((await applyJson(t, name)).action, 'unchanged');
        if (t === viaDaemon) await new Promise((r) => setTimeout(r, RECONCILE_S * 2500));
        assert.equal(await Promise.all(['root', ...WORKLOADS].map((id) => runningPid(t, name, id))), pids, 'nothing was restarted');
        for (const id of WORKLOADS) assert.is(containerYaml(t, name, id).restartCount ?? 0, 0);

        // and the delete that was killed now finishes
        await ok(t, ['delete', 'cell', name, ...scope(t), '--force']);
        for (const id of ['root', ...WORKLOADS]) assert.is(await task(t, name, id), undefined);
      });

  test('[in-process] a Ready cell whose workload task vanished (no daemon to see it): only that workload starts again', async () => {
    const t = inProcess;
    await ok(t, ['apply', '-f', '-'], cellDoc(t.realm, 'lost'));
    const rootPid = await runningPid(t, 'lost', 'root');
    const bPid = await runningPid(t, 'lost', 'b');
    // a's task goes away behind kukeon's back (killed and deleted in containerd): its YAML still says Ready
    const ns = `kukeon-${t.realm}`;
    const exited = client.tasks.wait(ns, 'blog_wp_lost_a');
    await client.tasks.kill(ns, 'blog_wp_lost_a', 'SIGKILL');
    await exited;
    await client.tasks.delete(ns, 'blog_wp_lost_a');
    assert.is(containerYaml(t, 'lost', 'a').state, 'Ready');
    const live = await getCell(t, 'lost');
    assert.is(live.status.state, 'Degraded', JSON.stringify(live.status));
    assert.is(live.status.reason, 'ContainersNotRunning');
    assert.match(live.status.message ?? '', 'container a');
    assert.equal(await readyColumn(t, 'lost'), { state: 'Degraded', ready: '1/2' });
    assert.match(await ok(t, ['describe', 'cell', 'lost', ...scope(t)]), /^State:\s+Degraded$/m, 'describe reads the tasks too');

    const item = await applyJson(t, 'lost');
    assert.equal([item.action, item.changes], ['updated', ['started container a: it had no task']]);
    await assertConverged(t, 'lost');
    assert.is(await runningPid(t, 'lost', 'root'), rootPid, 'the root was kept');
    assert.is(await runningPid(t, 'lost', 'b'), bPid, 'b was kept');
    await ok(t, ['delete', 'cell', 'lost', ...scope(t)]);
  });

  test('[in-process] a root killed with no daemon: apply makes the cell again, root then network then workloads', async () => {
    const t = inProcess;
    await ok(t, ['apply', '-f', '-'], cellDoc(t.realm, 'orphan'));
    const before = cellYaml(t, 'orphan');
    const ns = `kukeon-${t.realm}`;
    const exited = client.tasks.wait(ns, 'blog_wp_orphan_root');
    await client.tasks.kill(ns, 'blog_wp_orphan_root', 'SIGKILL');
    await exited;
    assert.is((await getCell(t, 'orphan')).status.state, 'Unknown', 'get: the root has no running task');
    const item = await applyJson(t, 'orphan');
    assert.equal([item.action, item.changes], ['updated', ['started: its root had exited']]);
    await assertConverged(t, 'orphan');
    assert.is.not(cellYaml(t, 'orphan').root?.pid, before.root?.pid, 'a new root');
    await ok(t, ['delete', 'cell', 'orphan', ...scope(t)]);
  });

  test('[in-process] apply of a cell the user stopped starts it, as kuke start does (clears stoppedByUser)', async () => {
    const t = inProcess;
    await ok(t, ['apply', '-f', '-'], cellDoc(t.realm, 'held'));
    await ok(t, ['stop', 'held', ...scope(t), '--timeout', '0']);
    assert.is(containerYaml(t, 'held', 'a').stoppedByUser, true);
    const item = await applyJson(t, 'held');
    assert.equal([item.action, item.changes], ['updated', ['started']]);
    await assertConverged(t, 'held');
    assert.is(containerYaml(t, 'held', 'a').stoppedByUser, undefined);
    await ok(t, ['delete', 'cell', 'held', ...scope(t)]);
  });

  test('[kukeond] a restart the supervisor has pending keeps its backoff: apply leaves it, the supervisor restarts it once', async () => {
    const t = viaDaemon;
    const backoff = 3;
    const containers = sleeper('a', `, restartPolicy: always, restartBackoffSeconds: ${backoff}`) + sleeper('b');
    await ok(t, ['apply', '-f', '-'], cellDoc(t.realm, 'backoff', containers));
    const pid = await runningPid(t, 'backoff', 'a');
    assert.ok(pid);
    process.kill(pid!, 'SIGKILL'); // a container process this test's kukeon started
    await waitFor('the supervisor to record the pending restart', () => !!containerYaml(t, 'backoff', 'a').nextRestartAt, 10_000, 50);
    const report = JSON.parse(await ok(t, ['apply', '-f', '-', '-o', 'json'], cellDoc(t.realm, 'backoff', containers))) as ApplyJson;
    assert.is(report.items.find((i) => i.ref.endsWith('/backoff'))?.action, 'unchanged');
    assert.is(await runningPid(t, 'backoff', 'a'), undefined, 'apply did not cut the backoff short');
    await waitFor('the supervisor restart', async () => !!(await runningPid(t, 'backoff', 'a')), (backoff + 10) * 1000, 100);
    await waitFor('its restart recorded', () => containerYaml(t, 'backoff', 'a').restartCount === 1, 5_000, 50);
    assert.is(containerYaml(t, 'backoff', 'a').restartCount, 1, 'restarted once, by the supervisor');
    await ok(t, ['delete', 'cell', 'backoff', ...scope(t), '--force']);
  });
});
