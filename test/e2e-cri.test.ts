// kukeond's CRI v1 front end (the api-cri plugin) proven with critest (cri-tools v1.26.1), offline, through the
// kit in /work/shared/critest (test/helpers/critest-kit.ts): kukeond inside the kit's namespace holder, on the
// kit's private containerd (CRI off); a crictl session by hand; critest; every spec named in
// test/fixtures/critest-expected.txt must pass; `kuke get` through the same daemon sees the CRI pods as cells.
//   KUKEON_CRITEST_TARGET=containerd  runs the same suite against containerd's own CRI (the reference: 79 of 80)
//   KUKEON_CRITEST_FOCUS=<regex>       critest -ginkgo.focus (the expected specs outside it are not checked)
//   KUKEON_CRITEST_WRITE_EXPECTED=1    rewrites the fixture with the specs that passed in this run

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { PROTO_FILE } from '../plugins/api-cri/cri-server';
import { detectLayout, v1HierarchyOf } from '../plugins/cgroupv2/layout';
import { runCommand } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { CritestKit, critestRequirements, critestTarget } from './helpers/critest-kit';
import { KUKE_BIN, REPO_ROOT, kukeAsync } from './helpers/kuke';
import { waitFor } from './helpers/wait-for';

const EXPECTED = path.join(REPO_ROOT, 'test', 'fixtures', 'critest-expected.txt');
/** critest's busybox, served by the kit's registry as 127.0.0.1:5000/e2e-test-images/busybox:1.29-2 (a mirror of registry.k8s.io). */
const SMOKE_IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
/** api-cri's table beyond its socket: the defaults (realm k8s, stack pods, registry.k8s.io/pause:3.6 as the sandbox image). */
const criConfig = (kit: CritestKit): Record<string, unknown> => ({ imageFsMountpoint: kit.containerdRoot });

const target = critestTarget() ?? 'kukeon';

/** The spec names of the fixture: one per line, `#` comments and blank lines ignored. */
function expectedSpecs(): string[] {
  return fs
    .readFileSync(EXPECTED, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

const title = `critest against ${target === 'kukeon' ? "kukeond's api-cri" : "containerd's own CRI (reference)"}`;

/** The suite: bring-up (and kukeond with api-cri), crictl by hand, kuke's view, critest; teardown always. */
function criSuite(test: Test): void {
  let kit: CritestKit | undefined;
  let failed = false;
  /** A test body that marks the run failed (so teardown keeps W and its logs) when it throws. */
  const step = (name: string, fn: (kit: CritestKit) => Promise<void>) =>
    test(name, async () => {
      try {
        if (!kit) throw new Error('the kit is not up');
        await fn(kit);
      } catch (err) {
        failed = true;
        throw err;
      }
    });
  const crictl = async (k: CritestKit, args: string[]) => {
    const r = await k.crictl(args);
    assert.is(r.code, 0, `crictl ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  };
  const kuke = async (k: CritestKit, args: string[]) => {
    const r = await kukeAsync(args, { env: k.kukeEnv, timeoutMs: 60_000 });
    assert.is(r.code, 0, `kuke ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** Writes a pod sandbox config (and returns its path); `name` is also the pod's uid prefix. */
  const podConfig = (k: CritestKit, name: string, linux: Record<string, unknown> = {}) => {
    const dir = path.join(k.w, 'smoke', name);
    fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
    const file = path.join(dir, 'pod.json');
    const uid = `${name}-${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(
      file,
      JSON.stringify({
        metadata: { name, namespace: 'kukeon-e2e', uid, attempt: 0 },
        log_directory: path.join(dir, 'logs'),
        linux,
      }),
    );
    return { file, uid, dir };
  };
  const containerConfig = (dir: string, name: string, script: string, linux: Record<string, unknown> = {}) => {
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(
      file,
      JSON.stringify({
        metadata: { name },
        image: { image: SMOKE_IMAGE },
        command: ['sh', '-c', script],
        log_path: `${name}.log`,
        linux,
      }),
    );
    return file;
  };
  /** The cells `kuke get cells -A -o json` lists through this kukeond whose document mentions `needle`. */
  /** The cells of realm k8s; of one pod when `podId` is given (a pod's cell is `<its name>-<first 8 of its id>`). */
  const podCells = async (k: CritestKit, podId?: string) => {
    const docs = JSON.parse((await kuke(k, ['get', 'cells', '-A', '-o', 'json'])) || '[]') as unknown;
    const list = (Array.isArray(docs) ? docs : ((docs as { items?: unknown[] }).items ?? [docs])) as {
      metadata: { name: string };
      spec: { realmId: string; spaceId: string; stackId: string };
    }[];
    return list.filter((d) => d.spec.realmId === 'k8s' && (!podId || d.metadata.name.endsWith(`-${podId.slice(0, 8)}`)));
  };

  test.before(async () => {
    kit = await CritestKit.up(target);
    if (target === 'kukeon') await kit.startKukeond(criConfig(kit));
  });

  test.after(async () => {
    const problems = (await kit?.down({ keep: failed })) ?? [];
    assert.equal(problems, [], `teardown: ${problems.join('; ')}`);
  });

  step('crictl by hand: version, pull, runp, create, start, exec (sync and streamed), logs, stop, stopp, rmp', async (k) => {
    assert.match(await crictl(k, ['version']), /RuntimeApiVersion:\s+v1\b/);
    await crictl(k, ['pull', SMOKE_IMAGE]);
    assert.match(await crictl(k, ['images', '-q']), /sha256:/);
    const pod = podConfig(k, 'smoke');
    const podId = await crictl(k, ['runp', pod.file]);
    // a container that exits on its own: its code and its stderr line are kept apart; with it the pod's only one, its
    // cell records every workload exited, and the pod stays ready (its infra container runs)
    const failing = await crictl(k, ['create', podId, containerConfig(pod.dir, 'fails', 'echo bad >&2; exit 3'), pod.file]);
    await crictl(k, ['start', failing]);
    const inspect = async (id: string) =>
      JSON.parse(await crictl(k, ['inspect', '-o', 'json', id])) as { status: { state: string; exitCode: number } };
    await waitFor('the failing container to exit', async () => (await inspect(failing)).status.state === 'CONTAINER_EXITED', 10_000, 50);
    assert.is((await inspect(failing)).status.exitCode, 3);
    assert.match(fs.readFileSync(path.join(pod.dir, 'logs', 'fails.log'), 'utf8'), /^\S+ stderr F bad$/m);
    const podState = async () =>
      (JSON.parse(await crictl(k, ['inspectp', '-o', 'json', podId])) as { status: { state: string } }).status.state;
    if (target === 'kukeon') {
      const cellState = async () => ((await podCells(k, podId))[0] as { status?: { state?: string } } | undefined)?.status?.state;
      await waitFor('the cell to record its workloads exited', async () => (await cellState()) === 'Exited', 10_000, 100);
    }
    assert.is(await podState(), 'SANDBOX_READY', 'a pod whose containers all exited is still ready');

    const ctrId = await crictl(k, ['create', podId, containerConfig(pod.dir, 'sh', 'echo smoke-up; exec sleep 600'), pod.file]);
    await crictl(k, ['start', ctrId]);
    const state = async () => (JSON.parse(await crictl(k, ['inspect', '-o', 'json', ctrId])) as { status: { state: string } }).status.state;
    assert.is(await state(), 'CONTAINER_RUNNING');
    assert.is(await crictl(k, ['ps', '-q', '--pod', podId]), ctrId);
    assert.is(await crictl(k, ['exec', '-s', ctrId, 'echo', 'hello-sync']), 'hello-sync');
    assert.is(await crictl(k, ['exec', ctrId, 'sh', '-c', 'echo $((6 * 7))']), '42');
    await waitFor('the container log', async () => (await k.crictl(['logs', ctrId])).stdout.includes('smoke-up'), 5_000, 50);

    if (target === 'kukeon') {
      // a pod is a cell of realm k8s, in the space of its namespace, stack pods; its containers are the cell's
      const cells = await podCells(k, podId);
      assert.is(cells.length, 1, `kuke get cells -A lists the pod ${podId} as one cell (found ${cells.length})`);
      assert.equal([cells[0].spec.spaceId, cells[0].spec.stackId], ['kukeon-e2e', 'pods']);
    }

    await crictl(k, ['stop', '--timeout', '0', ctrId]);
    assert.is(await state(), 'CONTAINER_EXITED');
    await crictl(k, ['stopp', podId]);
    await crictl(k, ['rmp', podId]);
    assert.not.match(await crictl(k, ['pods', '-q']), podId);
    assert.not.match(await crictl(k, ['ps', '-a', '-q']), ctrId);
  });

  if (target === 'kukeon') {
    step('kuke purge of a running CRI pod leaves nothing: no cell, no pod, no containerd container', async (k) => {
      const ctrs = () => {
        const a = ['-a', k.containerdSocket];
        return execFileSync('ctr', [...a, 'namespaces', 'ls', '-q'], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean)
          .flatMap((ns) =>
            execFileSync('ctr', [...a, '-n', ns, 'containers', 'ls', '-q'], { encoding: 'utf8' })
              .split('\n')
              .filter(Boolean),
          );
      };
      const before = ctrs();
      const pod = podConfig(k, 'purge');
      const podId = await crictl(k, ['runp', pod.file]);
      await crictl(k, ['start', await crictl(k, ['create', podId, containerConfig(pod.dir, 'w', 'exec sleep 600'), pod.file])]);
      const [cell] = await podCells(k, podId);
      assert.ok(cell, `kuke get cells -A lists the pod ${podId}`);
      const { realmId, spaceId, stackId } = cell.spec;
      await kuke(k, ['purge', 'cell', cell.metadata.name, '--realm', realmId, '--space', spaceId, '--stack', stackId]);
      assert.equal(await podCells(k, podId), [], 'no cell left');
      assert.not.match(await crictl(k, ['pods', '-q']), podId, 'crictl pods no longer lists it');
      assert.equal(ctrs(), before, 'no containerd container left');
    });

    step('an in-process kuke delete of a CRI pod (beside the daemon): crictl no longer lists it or its container', async (k) => {
      const pod = podConfig(k, 'gone');
      const podId = await crictl(k, ['runp', pod.file]);
      const ctrId = await crictl(k, ['create', podId, containerConfig(pod.dir, 'w', 'exec sleep 600'), pod.file]);
      await crictl(k, ['start', ctrId]);
      const [cell] = await podCells(k, podId);
      assert.ok(cell, `kuke get cells -A lists the pod ${podId}`);
      const { realmId, spaceId, stackId } = cell.spec;
      // in the kit's namespaces, as the daemon runs: kuke's own controller, not a call to kukeond
      const args = ['delete', 'cell', cell.metadata.name, '--realm', realmId, '--space', spaceId, '--stack', stackId];
      const r = await runCommand(k.inHolder[0], [...k.inHolder.slice(1), process.execPath, KUKE_BIN, ...args], {
        env: { ...process.env, ...k.kukeEnv, KUKEON_NO_DAEMON: '1' },
        timeoutMs: 60_000,
      });
      assert.is(r.code, 0, `kuke ${args.join(' ')} (in-process): ${r.stdout}${r.stderr}`);
      assert.equal(await podCells(k, podId), [], 'no cell left');
      assert.not.match(await crictl(k, ['pods', '-q']), podId, 'crictl pods no longer lists it');
      assert.not.match(await crictl(k, ['ps', '-a', '-q']), ctrId, 'crictl ps -a no longer lists its container');
      const status = await k.crictl(['inspectp', podId]);
      assert.is.not(status.code, 0, 'inspectp of the deleted pod fails (not found)');
    });
  }

  if (target === 'kukeon') {
    step("a pod under the kubelet's cgroup parent; crictl update changes a running container's limits in place", async (k) => {
      const layout = detectLayout(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
      /** A limit file of the container's cgroup: runc's v1 hierarchy on a hybrid host, else cgroup2. */
      const limit = (cgroupPath: string, controller: string, v1File: string, v2File: string) => {
        const h = v1HierarchyOf(layout, controller);
        const file = h ? path.join(h.mountPoint, cgroupPath, v1File) : path.join(layout.unified!, cgroupPath, v2File);
        return fs.readFileSync(file, 'utf8').trim();
      };
      const MiB = 1024 * 1024;
      const slice = await k.crictl(['runp', podConfig(k, 'sliced', { cgroup_parent: 'kubepods-besteffort.slice' }).file]);
      assert.is.not(slice.code, 0);
      assert.match(slice.stderr, /systemd slice.*cgroupDriver to cgroupfs/);

      const parent = `/${k.cgroupRoot}/kubepods/pod-e2e`;
      const pod = podConfig(k, 'limits', { cgroup_parent: parent });
      const podId = await crictl(k, ['runp', pod.file]);
      let cellCgroup = '';
      try {
        const resources = { memory_limit_in_bytes: 64 * MiB, cpu_period: 100_000, cpu_quota: 20_000 };
        const ctrId = await crictl(k, ['create', podId, containerConfig(pod.dir, 'w', 'exec sleep 600', { resources }), pod.file]);
        await crictl(k, ['start', ctrId]);
        const [cell] = await podCells(k, podId);
        const { realmId, spaceId, stackId } = cell.spec;
        cellCgroup = `${parent}/${realmId}_${spaceId}_${stackId}_${cell.metadata.name}`;
        const scope = ['--realm', realmId, '--space', spaceId, '--stack', stackId, '--cell', cell.metadata.name];
        const status = async () => {
          const got = JSON.parse(await kuke(k, ['get', 'containers', ...scope, '-o', 'json'])) as unknown;
          const list = (Array.isArray(got) ? got : ((got as { items?: unknown[] }).items ?? [got])) as {
            metadata: { name: string };
            status: { pid: number; cgroupPath: string };
          }[];
          return list.find((c) => c.metadata.name.startsWith('w-'))!.status;
        };
        const { pid, cgroupPath } = await status();
        assert.ok(cgroupPath.startsWith(`${cellCgroup}/`), `${cgroupPath} is under ${cellCgroup}`);
        const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
        assert.ok(lines.split('\n').includes(`0::${cgroupPath}`), lines);
        assert.is(limit(cgroupPath, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(64 * MiB));

        await crictl(k, ['update', '--memory', String(48 * MiB), '--cpu-period', '100000', '--cpu-quota', '50000', ctrId]);
        assert.is(limit(cgroupPath, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(48 * MiB));
        assert.match(limit(cgroupPath, 'cpu', 'cpu.cfs_quota_us', 'cpu.max'), /^50000( 100000)?$/);
        assert.is((await status()).pid, pid, 'the same process: updated in place');
        const inspect = JSON.parse(await crictl(k, ['inspect', '-o', 'json', ctrId])) as {
          status: { state: string; resources?: { linux?: Record<string, string> } };
        };
        assert.is(inspect.status.state, 'CONTAINER_RUNNING');
        // the status reports the limits now in force (CRI 0.26's resources, read by the kubelet's in-place resize)
        const reported = inspect.status.resources?.linux ?? {};
        assert.is(String(reported.memoryLimitInBytes), String(48 * MiB), JSON.stringify(inspect.status.resources));
        assert.is(String(reported.cpuQuota), '50000');

        // the pod's usage: its cell's cgroup, its network namespace's counters, its containers
        const sp = JSON.parse(await crictl(k, ['statsp', '-o', 'json', '--id', podId]));
        const linux = sp.stats?.[0]?.linux;
        assert.ok(linux, JSON.stringify(sp));
        assert.ok(Number(linux.process.processCount.value) >= 2, `the infra container and sleep: ${JSON.stringify(linux.process)}`);
        assert.ok(Number(linux.memory.workingSetBytes.value) > 0, JSON.stringify(linux.memory));
        assert.is(linux.network.defaultInterface.name, 'eth0');
        assert.equal(
          linux.containers.map((c: { attributes: { id: string } }) => c.attributes.id),
          [ctrId],
        );
      } finally {
        await crictl(k, ['stopp', podId]);
        await crictl(k, ['rmp', podId]);
      }
      const mounts = [layout.unified!, ...layout.v1.map((h) => h.mountPoint)];
      assert.equal(
        mounts.map((m) => path.join(m, cellCgroup)).filter((d) => fs.existsSync(d)),
        [],
        "the pod's cgroups are gone",
      );
    });
  }

  if (target === 'kukeon') {
    step("GetContainerEvents streams a container's created, started, stopped and deleted, with the pod's status", async (k) => {
      const definition = protoLoader.loadSync(PROTO_FILE, { keepCase: true, longs: String, enums: String, defaults: true });
      const pkg = grpc.loadPackageDefinition(definition) as unknown as {
        runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } };
      };
      const client = new pkg.runtime.v1.RuntimeService(`unix://${k.criSocket}`, grpc.credentials.createInsecure());
      type Event = {
        container_id: string;
        container_event_type: string;
        pod_sandbox_status?: { id: string; state: string };
        containers_statuses: { id: string; state: string }[];
      };
      const events: Event[] = [];
      const stream = (client as unknown as { GetContainerEvents(req: object): grpc.ClientReadableStream<Event> }).GetContainerEvents({});
      stream.on('data', (e: Event) => events.push(e));
      stream.on('error', () => undefined); // the cancel below ends it with CANCELLED
      try {
        const pod = podConfig(k, 'events');
        const podId = await crictl(k, ['runp', pod.file]);
        const ctrId = await crictl(k, ['create', podId, containerConfig(pod.dir, 'e', 'exec sleep 600'), pod.file]);
        await crictl(k, ['start', ctrId]);
        const mine = () => events.filter((e) => e.container_id === ctrId);
        // an event's statuses are read when kukeond sends it: the stop waits until the start has gone out
        await waitFor('the started event', () => mine().some((e) => e.container_event_type === 'CONTAINER_STARTED_EVENT'), 10_000, 50);
        await crictl(k, ['stop', '--timeout', '0', ctrId]);
        await crictl(k, ['rm', ctrId]);
        await waitFor('the deleted event', () => mine().some((e) => e.container_event_type === 'CONTAINER_DELETED_EVENT'), 10_000, 50);
        assert.equal(
          mine().map((e) => e.container_event_type),
          ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT'],
        );
        const started = mine()[1];
        assert.is(started.pod_sandbox_status?.id, podId);
        assert.is(started.pod_sandbox_status?.state, 'SANDBOX_READY');
        assert.is(started.containers_statuses.find((c) => c.id === ctrId)?.state, 'CONTAINER_RUNNING');
        assert.ok(
          events.some((e) => e.container_id === podId && e.container_event_type === 'CONTAINER_STARTED_EVENT'),
          "the infra container's start is the pod's",
        );
        await crictl(k, ['stopp', podId]);
        await crictl(k, ['rmp', podId]);
      } finally {
        stream.cancel();
        client.close();
      }
    });
  }

  step('critest: every spec of test/fixtures/critest-expected.txt passes', async (k) => {
    const focus = process.env.KUKEON_CRITEST_FOCUS;
    const run = await k.critest(target, focus ? [`-ginkgo.focus=${focus}`] : []);
    const { report } = run;
    console.log(
      `${report.summary}; critest wall ${(run.wallMs / 1000).toFixed(1)} s, bring-up ${(k.upMs / 1000).toFixed(1)} s (${target})`,
    );
    for (const s of report.specs.filter((x) => x.state !== 'passed' && x.state !== 'skipped'))
      console.log(`  ${s.state.toUpperCase()} ${s.name}\n    ${s.message ?? ''}`);
    for (const f of report.setupFailures) console.log(`  SETUP ${f}`);
    if (process.env.KUKEON_CRITEST_WRITE_EXPECTED === '1') {
      const passed = report.specs.filter((s) => s.state === 'passed').map((s) => s.name);
      const header = fs
        .readFileSync(EXPECTED, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('#'));
      fs.writeFileSync(EXPECTED, `${[...header, ...[...new Set(passed)].sort()].join('\n')}\n`);
      console.log(`  wrote ${passed.length} specs to ${EXPECTED}`);
    }
    const byName = new Map(report.specs.map((s) => [s.name, s]));
    const missing: string[] = [];
    for (const name of expectedSpecs()) {
      const s = byName.get(name);
      if (focus && (!s || s.state === 'skipped')) continue;
      if (s?.state !== 'passed') missing.push(`${name}: ${s ? `${s.state}: ${s.message ?? ''}` : 'not in the report'}`);
    }
    assert.equal(report.setupFailures, [], 'critest set-up');
    assert.equal(missing, [], `${missing.length} expected spec(s) did not pass:\n${missing.join('\n')}`);
    if (target === 'kukeon') {
      // critest removes every pod it makes, and so did the steps above: no cell is left
      const left = await podCells(k);
      assert.equal(
        left.map((c) => `${c.spec.realmId}/${c.spec.spaceId}/${c.spec.stackId}/${c.metadata.name}`),
        [],
        'no cell is left',
      );
    }
  });
}

e2eSuite(title, criSuite, () => critestRequirements(critestTarget()));
