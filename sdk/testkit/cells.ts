// The cell suites of the runtime, network and cgroups slots. They drive a real host through `kuke` (a driver
// runs it, for instance inside an e2e harness's network namespace, against a configuration that selects the
// plugin under test and its real peers), put a probe plugin next to it, inject failures and crashes between
// the cell's start steps with failpoints, and judge the plugin by what is left on the machine (/proc, the
// cgroup2 mount) and by what the probe saw while the host unwound.

import fs from 'node:fs';
import path from 'node:path';
import { CELL_START_STEPS } from '..';
import type { CellDoc, CellStartStep, Slot } from '..';
import { alive, cgroupDir, cgroupsOf, hasLocalAddress, interfacesOf, markerPids, processesInNetns } from './observe';
import type { ProbeEvent } from './probe-plugin';
import { conformanceTests, expect, expectEqual, fail, runCase } from './report';
import type { ConformanceCase, ConformanceReport, TestFn } from './report';

export interface KukeResult {
  code: number;
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** How the suites run kukeon: the e2e harness is one (`configure` = writeConfig, `kuke` = kuke). */
export interface CellDriver {
  /** (Re)writes the host's configuration: the plugin set under test, with the `extra` entries merged in. */
  configure(extra: Record<string, unknown>): void | Promise<void>;
  /** Runs `kuke ARGS` (a new process) against that configuration; resolves with its result, never rejects. */
  kuke(args: readonly string[], options?: { input?: string; env?: Record<string, string | undefined> }): Promise<KukeResult>;
}

export interface CellConformanceOptions {
  driver: CellDriver;
  /** The plugin under test, for the report (its name in the configuration). */
  plugin: string;
  /** An image with `sh` and `sleep` (busybox), in the realm's runtime; or give `imageArchive` for the kit to load it. */
  image: string;
  imageArchive?: string;
  /** A directory the kuke processes can write: the probe's log lives there. */
  workDir: string;
  /** The realm the suite works in (default `conformance`); it is purged at the end. */
  realm?: string;
  /** Run only the cases whose names include one of these strings. */
  only?: readonly string[];
}

const STEPS = CELL_START_STEPS;

/** The cases of every cell suite, in the order they run. */
export const CELL_CASES = [
  'create is idempotent',
  'start is idempotent',
  'delete is idempotent',
  'delete when parts are already gone',
  ...STEPS.map((s) => `purge after a crash after ${s}` as const),
  'a re-apply after a crash converges',
  ...STEPS.map((s) => `undo after a failure after ${s}` as const),
  'purge of the realm leaves nothing',
] as const;
export type CellCase = (typeof CELL_CASES)[number];
export const RUNTIME_CASES = CELL_CASES;
export const NETWORK_CASES = CELL_CASES;
export const CGROUPS_CASES = CELL_CASES;

type CellSlot = Extract<Slot, 'runtime' | 'network' | 'cgroups'>;

/** One started cell as the probe last saw it. */
interface Seen {
  root?: number;
  workloads: Record<string, number | undefined>;
  ip?: string;
  cgroupPath?: string;
}

/** The runtime suite: cells start and stop for real; run it with the runtime plugin and the store it needs. */
export function runRuntimeConformance(options: CellConformanceOptions): Promise<ConformanceReport> {
  return runCellConformance('runtime', options);
}

/** The network suite: as the runtime suite, plus the cell's attachment (an interface and the status IP in the root's netns). */
export function runNetworkConformance(options: CellConformanceOptions): Promise<ConformanceReport> {
  return runCellConformance('network', options);
}

/** The cgroups suite: as the runtime suite, plus the cell's cgroup (status.cgroupPath under the cgroup2 mount). */
export function runCgroupsConformance(options: CellConformanceOptions): Promise<ConformanceReport> {
  return runCellConformance('cgroups', options);
}

export function runtimeConformanceTests(
  test: TestFn,
  options: CellConformanceOptions | (() => CellConformanceOptions),
  prefix = 'runtime conformance: ',
): void {
  cellTests('runtime', test, options, prefix);
}
export function networkConformanceTests(
  test: TestFn,
  options: CellConformanceOptions | (() => CellConformanceOptions),
  prefix = 'network conformance: ',
): void {
  cellTests('network', test, options, prefix);
}
export function cgroupsConformanceTests(
  test: TestFn,
  options: CellConformanceOptions | (() => CellConformanceOptions),
  prefix = 'cgroups conformance: ',
): void {
  cellTests('cgroups', test, options, prefix);
}

/** `options` may be a function, for drivers that only exist once a `before` hook has run. */
function cellTests(slot: CellSlot, test: TestFn, options: CellConformanceOptions | (() => CellConformanceOptions), prefix: string): void {
  const opts = () => (typeof options === 'function' ? options() : options);
  const only = typeof options === 'function' ? undefined : options.only;
  const names = CELL_CASES.filter((n) => !only || only.some((s) => n.includes(s)));
  conformanceTests(test, names, () => runCellConformance(slot, opts()), prefix);
}

async function runCellConformance(slot: CellSlot, options: CellConformanceOptions): Promise<ConformanceReport> {
  const { driver } = options;
  const realm = options.realm ?? 'conformance';
  const scope = ['--realm', realm, '--space', 's', '--stack', 't'];
  const log = path.join(options.workDir, `conformance-probe-${process.pid}-${Date.now()}.jsonl`);
  fs.writeFileSync(log, '');
  await driver.configure({ [path.join(__dirname, 'probe-plugin.js')]: { log } });
  const markers = new Map<string, string[]>();
  const cases: ConformanceCase[] = [];

  // --- driving and observing ----------------------------------------------------------------------------------

  const show = (r: KukeResult) =>
    `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  const kuke = async (args: string[], env?: Record<string, string>, input?: string) => driver.kuke(args, { env, input });
  const ok = async (what: string, args: string[], env?: Record<string, string>, input?: string) => {
    const r = await kuke(args, env, input);
    if (r.code !== 0) fail(`${what} (kuke ${args.join(' ')}) failed, ${show(r)}`);
    return r;
  };
  const events = (from: number): ProbeEvent[] =>
    fs
      .readFileSync(log, 'utf8')
      .slice(from)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ProbeEvent);
  const logSize = () => fs.statSync(log).size;
  const cellPath = (name: string) => [realm, 's', 't', name].join('/');

  const manifest = (name: string) => {
    const m = [`${9_000_000 + Math.floor(Math.random() * 899_999)}`, `${9_000_000 + Math.floor(Math.random() * 899_999)}`];
    markers.set(name, m);
    return `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: ${realm}
  spaceId: s
  stackId: t
  containers:
    - { id: a, image: "${options.image}", command: sh, args: ["-c", ${JSON.stringify(workload(m[0]))}] }
    - { id: b, image: "${options.image}", command: sh, args: ["-c", ${JSON.stringify(workload(m[1]))}] }
`;
  };

  /** Applies a new cell; returns what the probe saw at its last step (verify) and the log offset before. */
  const apply = async (name: string, text = manifest(name), env?: Record<string, string>) => {
    const from = logSize();
    const r = await kuke(['apply', '-f', '-'], env, text);
    return { r, from, seen: lastSeen(events(from), name) };
  };
  const lastSeen = (evs: ProbeEvent[], name: string): Seen | undefined => {
    const mine = evs.filter((e) => e.cell === cellPath(name) && e.event === 'done');
    const last = mine[mine.length - 1];
    return last && { root: last.root, workloads: last.workloads, ip: last.ip, cgroupPath: last.cgroupPath };
  };
  const state = async (name: string): Promise<CellDoc | undefined> => {
    const r = await kuke(['get', 'cell', name, ...scope, '-o', 'json']);
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as CellDoc;
  };
  const waitNone = async <T>(list: () => T[], ms = 5_000): Promise<T[]> => {
    const end = Date.now() + ms;
    let left = list();
    while (left.length && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      left = list();
    }
    return left;
  };
  const waitDead = async (pids: number[], ms = 5_000) => {
    const end = Date.now() + ms;
    while (pids.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  };

  /** The cell runs as a cell must: root and workloads alive, workloads in the root's network namespace, plus the slot's own checks. */
  const expectRunning = (name: string, seen: Seen | undefined, what: string) => {
    if (!seen) fail(`${what}: the probe saw no start step of ${cellPath(name)}`);
    expect(alive(seen.root), `${what}: the root of ${name} (pid ${seen.root}) is not running`);
    for (const [id, pid] of Object.entries(seen.workloads))
      expect(alive(pid), `${what}: workload ${id} of ${name} (pid ${pid}) is not running`);
    for (const m of markers.get(name) ?? [])
      expectEqual(markerPids(m).length, 1, `${what}: processes running \`sleep ${m}\` (one workload)`);
    const rootNet = netns(seen.root);
    for (const [id, pid] of Object.entries(seen.workloads))
      expectEqual(netns(pid), rootNet, `${what}: the network namespace of workload ${id} (the root's)`);
    if (slot === 'network') {
      expect(seen.ip, `${what}: the cell's status has no ip after start`);
      expect(
        (interfacesOf(seen.root) ?? []).some((i) => i !== 'lo'),
        `${what}: the root's network namespace has only ${show2(interfacesOf(seen.root))}: nothing was attached`,
      );
      expect(hasLocalAddress(seen.root, seen.ip), `${what}: ${seen.ip} is not an address in the root's network namespace`);
    }
    if (slot === 'cgroups') {
      expect(seen.cgroupPath, `${what}: the cell's status has no cgroupPath after start`);
      const dir = cgroupDir(seen.cgroupPath);
      expect(dir && fs.existsSync(dir), `${what}: the cell's cgroup ${dir ?? seen.cgroupPath} does not exist`);
      for (const pid of [seen.root, ...Object.values(seen.workloads)]) {
        expect(
          cgroupsOf(pid).some((p) => p === seen.cgroupPath || p.startsWith(`${seen.cgroupPath}/`)),
          `${what}: pid ${pid} is not inside the cell's cgroup ${seen.cgroupPath} (it is in ${show2(cgroupsOf(pid))})`,
        );
      }
    }
  };

  /** Nothing of the cell runs any more (and, for cgroups, `cgroupGone`: its cgroup is removed). */
  const expectGone = async (name: string, seen: Seen | undefined, what: string, cgroupGone = true) => {
    const pids = [seen?.root, ...Object.values(seen?.workloads ?? {})].filter((p): p is number => !!p);
    await waitDead(pids);
    for (const pid of pids) expect(!alive(pid), `${what}: pid ${pid} of ${name} is still running`);
    for (const m of markers.get(name) ?? []) expectEqual(markerPids(m), [], `${what}: processes still running \`sleep ${m}\``);
    if (slot === 'cgroups' && cgroupGone && seen?.cgroupPath) {
      const dir = cgroupDir(seen.cgroupPath);
      expect(!dir || !fs.existsSync(dir), `${what}: the cell's cgroup ${dir} is still there`);
    }
  };

  const del = (name: string) => ok(`delete cell ${name}`, ['delete', 'cell', name, ...scope]);
  const purge = (name: string) => ok(`purge cell ${name}`, ['purge', 'cell', name, ...scope]);

  // --- the cases --------------------------------------------------------------------------------------------

  const crashCase = (step: CellStartStep) => async () => {
    const name = `crash-${step.toLowerCase()}`;
    const { r, from } = await apply(name, undefined, { KUKEON_FAILPOINTS: `conformance.after.${step}=kill` });
    expect(r.signal === 'SIGKILL' || r.code === 137, `apply with a kill after ${step}: want the kuke process killed, got ${show(r)}`);
    const seen = lastSeen(events(from), name);
    // What a plugin started in the cell's network namespace and only recorded in the status the crash lost.
    const cellNet = netns(seen?.root);
    await purge(name);
    await expectGone(name, seen, `after a crash after ${step} and a purge`);
    if (cellNet && cellNet !== netns(process.pid)) {
      const left = await waitNone(() => processesInNetns(cellNet));
      expectEqual(left, [], `after a crash after ${step} and a purge, processes still in the cell's network namespace ${cellNet}`);
    }
    expect((await state(name)) === undefined, `after the purge, cell ${name} is still stored`);
    await purge(name); // again: nothing left, still fine
  };

  const failureCase = (step: CellStartStep) => async () => {
    const name = `fail-${step.toLowerCase()}`;
    const { r, from } = await apply(name, undefined, { KUKEON_FAILPOINTS: `conformance.after.${step}=error` });
    expect(r.code === 1, `apply with a failure after ${step}: want exit 1, got ${show(r)}`);
    expect(
      /conformance\.after\./.test(r.stderr),
      `apply with a failure after ${step}: stderr does not carry the injected failure: ${show(r)}`,
    );
    const evs = events(from).filter((e) => e.cell === cellPath(name));
    const seen = lastSeen(evs, name);
    checkUndoOrder(evs, step);
    await expectGone(name, seen, `after a failure after ${step} was unwound`, false);
    expectEqual((await state(name))?.status?.state, 'Failed', `the state of ${name} after the failed start`);
    const again = await apply(name, manifest(name));
    if (again.r.code !== 0) fail(`re-apply after the failure: ${show(again.r)}`);
    expectRunning(name, again.seen, 'the re-apply after the failure');
    await del(name);
    await expectGone(name, again.seen, 'after delete');
  };

  /** What the probe saw while the host unwound a failed start, judged by the slot's undo order. */
  const checkUndoOrder = (evs: ProbeEvent[], failedAfter: CellStartStep) => {
    const done = evs.filter((e) => e.event === 'done').map((e) => e.step);
    const undone = evs.filter((e) => e.event === 'undo').map((e) => e.step);
    // The probe's own tap on the failed step threw, so it has no undo there.
    expectEqual(undone, done.filter((s) => s !== failedAfter).reverse(), "undo order: the probe's undos (every earlier step, last first)");
    for (const e of evs.filter((x) => x.event === 'undo')) {
      const at = `undo order: when the host unwound ${e.step}`;
      const workloadsAlive = Object.entries(e.workloadsAlive)
        .filter(([, a]) => a)
        .map(([id]) => id);
      if (e.step === 'startWorkloads') {
        expect(e.rootAlive, `${at}, the root was already stopped: nothing may be undone before the steps after it`);
      }
      if (e.step === 'attachNetwork' || e.step === 'startRoot') {
        expectEqual(workloadsAlive, [], `${at}, workloads still running (the workloads' undos must run first)`);
        if (e.root !== undefined)
          expect(e.rootAlive, `${at}, the root (pid ${e.root}) was already stopped: the root is undone last, after the network`);
      }
      if (e.step === 'prepare' && e.root !== undefined)
        expect(!e.rootAlive, `${at}, the root (pid ${e.root}) was still running after the root's undo`);
      if (slot === 'network' && e.root !== undefined && e.rootAlive) {
        const attached = (e.interfaces ?? []).some((i) => i !== 'lo');
        if (e.step === 'attachNetwork')
          expect(attached, `${at}, the root's network namespace had no interface left: the network was detached before its turn`);
        if (e.step === 'startRoot')
          expect(
            !attached,
            `${at}, the root's network namespace still had ${show2(e.interfaces)}: the network must be detached before the root stops`,
          );
      }
      if (slot === 'cgroups' && e.step === 'prepare' && e.cgroupPath) {
        expect(e.cgroupExists, `${at}, the cell's cgroup ${e.cgroupPath} was already gone before the root's undo had run`);
      }
    }
  };

  const bodies: Record<CellCase, () => Promise<void>> = {
    'create is idempotent': async () => {
      const name = 'idem-create';
      const text = manifest(name);
      const first = await apply(name, text);
      if (first.r.code !== 0) fail(`apply: ${show(first.r)}`);
      expectRunning(name, first.seen, 'after the first apply');
      const second = await apply(name, text);
      if (second.r.code !== 0) fail(`the same apply again: ${show(second.r)}`);
      expect(/unchanged/.test(second.r.stdout), `the same apply again should report the cell unchanged: ${second.r.stdout.trim()}`);
      expectRunning(name, first.seen, 'after the same apply again (the same processes)');
      expectEqual((await state(name))?.status?.state, 'Ready', 'state after the second apply');
      // An unchanged apply calls no plugin at all; a label change re-runs every create tap on the existing cell.
      const relabelled = text.replace(`metadata: { name: ${name} }`, `metadata: { name: ${name}, labels: { conformance: relabelled } }`);
      const third = await apply(name, relabelled);
      if (third.r.code !== 0) fail(`a re-apply with a new label (the create taps run again on the existing cell): ${show(third.r)}`);
      expect(
        relabelled !== text && /updated/.test(third.r.stdout),
        `a re-apply with a new label should report the cell updated: ${third.r.stdout.trim()}`,
      );
      expectRunning(name, first.seen, 'after a re-apply with a new label (the same processes)');
      expectEqual((await state(name))?.status?.state, 'Ready', 'state after the re-apply with a new label');
      await del(name);
      await expectGone(name, first.seen, 'after delete');
    },
    'start is idempotent': async () => {
      const name = 'idem-start';
      const first = await apply(name);
      if (first.r.code !== 0) fail(`apply: ${show(first.r)}`);
      const from = logSize();
      await ok('start of a running cell', ['start', name, ...scope]);
      const again = lastSeen(events(from), name);
      expectEqual(again?.root, first.seen?.root, 'the root pid after a second start (the same root)');
      expectEqual(again?.workloads, first.seen?.workloads, 'workload pids after a second start (the same processes)');
      expectRunning(name, again, 'after a second start');
      await ok('stop', ['stop', name, ...scope, '--timeout', '1']);
      await expectGone(name, first.seen, 'after stop', false);
      await ok('stop of a stopped cell', ['stop', name, ...scope, '--timeout', '1']);
      const restart = await kuke(['start', name, ...scope]);
      if (restart.code !== 0) fail(`start after stop: ${show(restart)}`);
      const restarted = lastSeen(events(from), name);
      expectRunning(name, restarted, 'after start following stop');
      await del(name);
      await expectGone(name, restarted, 'after delete');
    },
    'delete is idempotent': async () => {
      const name = 'idem-delete';
      const first = await apply(name);
      if (first.r.code !== 0) fail(`apply: ${show(first.r)}`);
      await del(name);
      await expectGone(name, first.seen, 'after delete');
      await purge(name);
      await purge(name);
      await expectGone(name, first.seen, 'after delete and two purges');
    },
    'delete when parts are already gone': async () => {
      const name = 'parts-gone';
      const first = await apply(name);
      if (first.r.code !== 0) fail(`apply: ${show(first.r)}`);
      expectRunning(name, first.seen, 'after apply');
      // Processes die behind kukeon's back (an OOM kill, a reboot); for cgroups the empty cgroups go too.
      const pids = [first.seen!.workloads.a, first.seen!.root].filter((p): p is number => !!p);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await waitDead(pids);
      if (slot === 'cgroups') removeCgroupTree(cgroupDir(first.seen!.cgroupPath));
      await del(name);
      await expectGone(name, first.seen, 'after delete of a cell whose processes were already killed');
    },
    ...(Object.fromEntries(STEPS.map((s) => [`purge after a crash after ${s}`, crashCase(s)])) as Record<
      `purge after a crash after ${CellStartStep}`,
      () => Promise<void>
    >),
    'a re-apply after a crash converges': async () => {
      const name = 'crash-reapply';
      const text = manifest(name);
      const crashed = await apply(name, text, { KUKEON_FAILPOINTS: 'conformance.after.attachNetwork=kill' });
      expect(
        crashed.r.signal === 'SIGKILL' || crashed.r.code === 137,
        `apply with a kill after attachNetwork: want the kuke process killed, got ${show(crashed.r)}`,
      );
      const again = await apply(name, text);
      if (again.r.code !== 0) fail(`re-apply after the crash: ${show(again.r)}`);
      expectRunning(name, again.seen, 'after the re-apply');
      if (crashed.seen?.root && crashed.seen.root !== again.seen?.root)
        await expectGone(name, { workloads: {}, root: crashed.seen.root }, 'the root started before the crash, once replaced', false);
      await del(name);
      await expectGone(name, again.seen, 'after delete');
    },
    ...(Object.fromEntries(STEPS.map((s) => [`undo after a failure after ${s}`, failureCase(s)])) as Record<
      `undo after a failure after ${CellStartStep}`,
      () => Promise<void>
    >),
    'purge of the realm leaves nothing': async () => {
      const name = 'left-running';
      const first = await apply(name);
      if (first.r.code !== 0) fail(`apply: ${show(first.r)}`);
      await ok('purge realm --cascade', ['purge', 'realm', realm, '--cascade']);
      for (const n of markers.keys()) await expectGone(n, undefined, `after purge of realm ${realm}`);
      await expectGone(name, first.seen, `after purge of realm ${realm}`);
      const left = await kuke(['get', 'realm', realm, '-o', 'json']);
      expect(left.code !== 0, `realm ${realm} is still stored after its purge`);
    },
  };

  const selected = (n: string) => !options.only || options.only.some((s) => n.includes(s));
  let setup: string | undefined;
  try {
    await ok('create realm', ['apply', '-f', '-'], undefined, `apiVersion: v1beta1\nkind: Realm\nmetadata: { name: ${realm} }\n`);
    if (options.imageArchive) await ok('image load', ['image', 'load', options.imageArchive, '--realm', realm]);
  } catch (e) {
    setup = (e as Error).message;
  }
  for (const name of CELL_CASES) {
    if (!selected(name)) continue;
    cases.push(await runCase(name, setup ? async () => fail(`setup failed: ${setup}`) : bodies[name]));
  }
  // Whatever a failed case left behind.
  if (!cases.some((c) => c.name === 'purge of the realm leaves nothing' && c.ok)) await kuke(['purge', 'realm', realm, '--cascade']);
  return { slot, plugin: options.plugin, cases, ok: cases.every((c) => c.ok) };
}

/**
 * A workload: a shell that ends on SIGTERM (a container's pid 1 ignores signals it does not handle, so a bare
 * `sleep` would make every stop wait out its grace period) around `sleep <marker>`, the process the kit finds.
 */
function workload(marker: string): string {
  return `trap 'exit 0' TERM; sleep ${marker} & wait`;
}

function netns(pid: number | undefined): string | undefined {
  try {
    return pid ? fs.readlinkSync(`/proc/${pid}/ns/net`) : undefined;
  } catch {
    return undefined;
  }
}

function show2(v: unknown): string {
  return JSON.stringify(v);
}

/** rmdir a cgroup and what is below it, deepest first; directories still in use stay. */
function removeCgroupTree(dir: string | undefined): void {
  if (!dir) return;
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeCgroupTree(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    // busy or gone
  }
}
