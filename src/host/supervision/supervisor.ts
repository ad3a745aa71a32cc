// The daemon's supervisor: it follows the runtime's task exits and applies each container's restart policy.
// Event-driven: an exit (or a (re)subscription, or the slow periodic reconcile, since exits sent while not
// subscribed are lost) makes it examine that cell under the cell's lock. Examining compares the stored status with
// the live tasks, so it is idempotent and never mistakes kukeon's own work for a crash: a stop, delete or restart
// holds the lock while it kills tasks, and leaves the cell Stopped or the tasks deleted or running again.
//
// A workload that exited is restarted alone in its cell's namespaces (Lifecycle.restartContainer); a root that
// died takes its cell down (stop with KILL) and the cell starts again as a whole when a policy asks for it.

import createDebug from 'debug';
import { formatRef, isKukeonError } from '../../../sdk';
import type { CellContext, ContainerDoc, ContainerStatus, Ref, State, TaskState } from '../../../sdk';
import { KILL, type Lifecycle } from '../controller/lifecycle';
import { HostOperationScope } from '../operation-scope';
import type { HostServiceRegistry } from '../service-registry';
import type { HostStateReader } from '../state-reader';
import { type ExitReading, cellStateOf, exitRecorded, readExit } from './exit-facts';
import { exhausted, nextDelayMs, policyOf, restartsAfterExit } from './restart-policy';
import type { Policy } from './restart-policy';

export const DEFAULT_RECONCILE_MS = 30_000;
/** A synthesized root's container name in the runtime (the containerd plugin's ROOT_LEAF). */
const SYNTHESIZED_ROOT = 'root';
/** After a (re)subscription, a second look: the stream may have been registered a moment after the first listing. */
const RESUBSCRIBE_RECHECK_MS = 1000;
const BUSY_RETRY_MS = 500;
/** Cells the supervisor looks after; Stopped and Pending ones are the user's. */
const WATCHED = new Set<State | undefined>(['Ready', 'Degraded', 'Exited', 'Failed', 'Unknown']);

export interface SupervisorOptions {
  lifecycle: Lifecycle;
  state: HostStateReader;
  services: HostServiceRegistry;
  /** The slow periodic reconcile; 0 disables it. */
  reconcileIntervalMs?: number;
  /** A workload exited for good (no restart follows): what it held while it ran goes (its staged secrets). */
  onDown?: (cellPath: readonly string[], id: string) => void;
  /** A cell with `spec.autoDelete` whose workloads all exited for good: it is to be deleted (after its lock is let go). */
  onFinished?: (ref: Ref) => void;
}

const now = () => new Date().toISOString();
/** How long an autoDelete cell stays after its last workload's exit. */
const AUTO_DELETE_GRACE_MS = 3_000;
/** The earliest of ISO times, or undefined. */
const earliest = (times: (string | undefined)[]) => times.filter((t): t is string => !!t).sort()[0];
/**
 * Every workload ended for good: exited or failed with no restart due, or stopped with its cell when the root died
 * (a user's stop marks stoppedByUser, and is not an end).
 */
const allOver = (states: (ContainerStatus | undefined)[]) =>
  states.length > 0 &&
  states.every(
    (st) => ((st?.state === 'Exited' || st?.state === 'Failed') && !st.nextRestartAt) || (st?.state === 'Stopped' && !st.stoppedByUser),
  );
const key = (cellPath: readonly string[], id?: string) => (id === undefined ? cellPath.join('/') : `${cellPath.join('/')}/${id}`);

export class Supervisor {
  private readonly log = createDebug('kukeon:supervisor');
  private off: (() => void) | undefined;
  private interval: NodeJS.Timeout | undefined;
  /** Per cell: the chain of its examinations and restarts, one at a time. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Pending restarts: container keys, and `<cell>#cell` for a whole cell. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** When each pending timer is due (ms since the epoch). */
  private readonly dueAt = new Map<string, number>();
  /** The last restart delay per key, which the next one doubles (reset after a long enough run). */
  private readonly delays = new Map<string, number>();
  /** The OOM kill count each container's cgroup had when last looked at: an exit after it rose is OOMKilled. */
  private readonly oomSeen = new Map<string, number>();
  private reconciling: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: SupervisorOptions) {}

  /** Subscribes to exits (each (re)subscription reconciles) and starts the periodic reconcile. */
  start(): boolean {
    const events = this.o.services.get('runtime.events');
    if (!events || !this.o.services.get('runtime.tasks')) {
      this.log('no runtime events or tasks service: containers are not supervised');
      return false;
    }
    this.off = events.subscribe(
      (e) => this.enqueue(e.cellPath, () => this.examine(e.cellPath)),
      () => {
        this.log('subscribed to exits: reconciling');
        void this.reconcile();
        this.later(`resubscribed`, RESUBSCRIBE_RECHECK_MS, () => void this.reconcile());
      },
    );
    const every = this.o.reconcileIntervalMs ?? DEFAULT_RECONCILE_MS;
    if (every > 0) {
      this.interval = setInterval(() => void this.reconcile(), every);
      this.interval.unref();
    }
    return true;
  }

  /** Stops listening and cancels pending restarts; waits for what is running. The containers stay as they are. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    if (this.interval) clearInterval(this.interval);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.queues.values(), this.reconciling]);
  }

  /** Examines every watched cell of the store. Concurrent calls share one pass. */
  reconcile(): Promise<void> {
    this.reconciling ??= this.reconcilePass().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  private async reconcilePass(): Promise<void> {
    const { state } = this.o;
    try {
      for (const realm of await state.list('Realm', []))
        for (const space of await state.list('Space', [realm.metadata.name]))
          for (const stack of await state.list('Stack', [realm.metadata.name, space.metadata.name]))
            for (const cell of await state.list('Cell', [realm.metadata.name, space.metadata.name, stack.metadata.name])) {
              if (this.stopped) return;
              if (!WATCHED.has(cell.status?.state)) continue;
              const path = [realm.metadata.name, space.metadata.name, stack.metadata.name, cell.metadata.name];
              await this.enqueue(path, () => this.examine(path));
            }
    } catch (err) {
      this.log('reconcile failed: %s', (err as Error).message);
    }
  }

  /** Runs `fn` after everything queued for the cell; a busy lock is retried a little later. */
  private enqueue(cellPath: readonly string[], fn: () => Promise<void>): Promise<void> {
    const k = key(cellPath);
    const run = async () => {
      if (this.stopped) return;
      try {
        await fn();
      } catch (err) {
        if (isKukeonError(err) && err.code === 'KUKEON_E_BUSY') {
          this.log('%s is busy; looking again in %d ms', k, BUSY_RETRY_MS);
          this.later(`busy:${k}`, BUSY_RETRY_MS, () => void this.enqueue(cellPath, () => this.examine(cellPath)));
        } else this.log('%s: %s', k, isKukeonError(err) ? err.describe() : ((err as Error).stack ?? err));
      }
    };
    const next = (this.queues.get(k) ?? Promise.resolve()).then(run);
    this.queues.set(k, next);
    void next.then(() => {
      if (this.queues.get(k) === next) this.queues.delete(k);
    });
    return next;
  }

  /** One timer per key: the earlier due time wins (a pending later one is replaced). */
  private later(k: string, ms: number, fn: () => void): void {
    if (this.stopped) return;
    const due = Date.now() + Math.max(0, ms);
    const pending = this.timers.get(k);
    if (pending) {
      if ((this.dueAt.get(k) ?? 0) <= due) return;
      clearTimeout(pending);
    }
    const t = setTimeout(
      () => {
        this.timers.delete(k);
        this.dueAt.delete(k);
        if (!this.stopped) fn();
      },
      Math.max(0, ms),
    );
    t.unref();
    this.timers.set(k, t);
    this.dueAt.set(k, due);
  }

  private task(cellPath: readonly string[], id: string): Promise<TaskState | undefined> {
    return this.o.services.get('runtime.tasks')!.get(cellPath, id);
  }

  /**
   * Whether the container's cgroup counted an OOM kill during the run of task `pid`: against the count noted when
   * the supervisor started that run, else 0 (a run it did not start, e.g. a user's, has a fresh cgroup).
   */
  private oomRose(cell: CellContext, id: string, isRoot: boolean, pid: number | undefined): boolean {
    const cellPath = cell.ref.path;
    const count = this.o.services.get('cgroups.oom')?.oomKills(cellPath, id, isRoot, cell.doc.spec.cgroupParent);
    if (count === undefined) return false;
    const k = `${key(cellPath, id)}@${pid ?? ''}`;
    const seen = this.oomSeen.get(k) ?? 0;
    this.oomSeen.delete(k); // a run ends once: nothing kept per past pid
    return count > seen;
  }

  /** The OOM count at the start of the run of task `pid` (the supervisor's own restarts). */
  private noteOom(cell: CellContext, id: string, isRoot: boolean, pid: number | undefined): void {
    const cellPath = cell.ref.path;
    const count = this.o.services.get('cgroups.oom')?.oomKills(cellPath, id, isRoot, cell.doc.spec.cgroupParent);
    if (count !== undefined) this.oomSeen.set(`${key(cellPath, id)}@${pid ?? ''}`, count);
  }

  /** Drops what is remembered about a cell that is gone. */
  private forget(cellPath: readonly string[]): void {
    const prefix = key(cellPath);
    for (const m of [this.delays, this.oomSeen])
      for (const k of m.keys()) if (k === `${prefix}#cell` || k.startsWith(`${prefix}/`)) m.delete(k);
  }

  /** Under the cell's lock: with its context, when the cell is one the supervisor looks after. */
  private withCell(cellPath: readonly string[], fn: (ctx: CellContext, ref: Ref) => Promise<void>): Promise<void> {
    const ref: Ref = { kind: 'Cell', path: cellPath };
    const scope = HostOperationScope.start();
    return this.o.lifecycle.withLock(ref, scope, async () => {
      const stored = await this.o.state.get({ kind: 'Cell', path: cellPath });
      if (!stored) this.forget(cellPath);
      if (!stored || !WATCHED.has(stored.status?.state)) return;
      await fn(await this.o.lifecycle.cellContext(ref, 'start', { scope, stop: KILL }), ref);
    });
  }

  /** Compares the cell's stored status with its live tasks and acts on every exit not yet recorded. */
  private examine(cellPath: readonly string[]): Promise<void> {
    return this.withCell(cellPath, async (ctx, ref) => {
      const rootName = ctx.rootId ?? SYNTHESIZED_ROOT;
      const root = await this.task(cellPath, rootName);
      if (root?.status === 'other' && root.pid !== undefined && root.pid === ctx.status.root?.pid) {
        // the root it started, now paused or UNKNOWN while its shim does not answer: not dead; the next event or
        // reconcile looks again (a root left CREATED by an interrupted start never got its pid recorded: dead)
        this.log('%s: its root task is neither running nor stopped; looking again later', formatRef(ref));
        return;
      }
      if (root?.status !== 'running') {
        // the root's death is recorded (the cell was taken down: no root pid) and a restart is pending
        if (ctx.status.state === 'Degraded' && ctx.status.root?.pid === undefined) return this.scheduleCellRestart(ctx);
        if (!root && ctx.status.state === 'Failed') return; // already down
        return this.rootExited(ctx, ref, root);
      }
      let changed = ctx.status.state === 'Unknown'; // saved while containerd did not answer: its root runs, settle it
      for (const doc of this.workloads(ctx)) {
        const id = doc.metadata.name;
        const st = ctx.status.containers[id];
        if (st.nextRestartAt) {
          this.scheduleRestart(ctx, id, st.nextRestartAt);
          continue;
        }
        const t = await this.task(cellPath, id);
        if (t?.status !== 'stopped' || exitRecorded(st)) continue;
        this.workloadExited(ctx, doc, t);
        changed = true;
      }
      if (changed) await this.settleCell(ctx);
    });
  }

  private workloads(ctx: CellContext): ContainerDoc[] {
    return ctx.containers.filter((c) => c.metadata.name !== ctx.rootId);
  }

  /** The cell's state from its workloads (its root runs), written with the containers' statuses. */
  private async settleCell(ctx: CellContext): Promise<void> {
    const workloads = Object.fromEntries(this.workloads(ctx).map((c) => [c.metadata.name, ctx.status.containers[c.metadata.name]]));
    Object.assign(ctx.status, cellStateOf(workloads));
    await this.o.lifecycle.persistCell(ctx);
    if (allOver(this.workloads(ctx).map((c) => ctx.status.containers[c.metadata.name]))) this.finished(ctx);
  }

  /**
   * `spec.autoDelete`: the cell goes once nothing of it runs or restarts. After a grace (a client that follows the
   * cell, kuke run --rm, reads its last output and deletes it itself) it is looked at again under its lock: the
   * same cell (its createdAt: not one made again under the name meanwhile), still with nothing running or due.
   */
  private finished(ctx: CellContext): void {
    if (!ctx.doc.spec.autoDelete || !this.o.onFinished) return;
    const cellPath = ctx.ref.path;
    const created = ctx.doc.status?.createdAt;
    this.log('%s: every workload exited; autoDelete in %d ms', formatRef(ctx.ref), AUTO_DELETE_GRACE_MS);
    this.later(
      `autoDelete:${key(cellPath)}`,
      AUTO_DELETE_GRACE_MS,
      () => void this.enqueue(cellPath, () => this.autoDelete(cellPath, created)),
    );
  }

  private async autoDelete(cellPath: readonly string[], created: string | undefined): Promise<void> {
    const ref: Ref = { kind: 'Cell', path: cellPath };
    const scope = HostOperationScope.start();
    let still = false;
    await this.o.lifecycle.withLock(ref, scope, async () => {
      const stored = await this.o.state.get({ kind: 'Cell', path: cellPath });
      if (!stored?.spec.autoDelete || stored.status?.createdAt !== created) return;
      const ctx = await this.o.lifecycle.cellContext(ref, 'start', { scope, stop: KILL });
      still = allOver(this.workloads(ctx).map((c) => ctx.status.containers[c.metadata.name]));
    });
    if (still) this.o.onFinished?.(ref);
  }

  private reading(cell: CellContext, id: string, isRoot: boolean, t: TaskState): ExitReading {
    return readExit(t.exitCode ?? 0, this.oomRose(cell, id, isRoot, t.pid));
  }

  /** Records a workload's exit and decides: a restart after the backoff, give up (on-failure's cap), or nothing. */
  private workloadExited(ctx: CellContext, doc: ContainerDoc, t: TaskState): void {
    const cellPath = ctx.ref.path;
    const id = doc.metadata.name;
    const st = ctx.status.containers[id];
    const exit = this.reading(ctx, id, false, t);
    const finishTime = t.exitedAt ?? now();
    Object.assign(st, {
      state: 'Exited',
      pid: undefined,
      exitCode: exit.exitCode,
      exitSignal: exit.exitSignal,
      finishTime,
      reason: exit.reason,
      message: exit.text,
    } satisfies ContainerStatus);
    const policy = policyOf(doc.spec);
    const facts = { exitCode: exit.exitCode, byUser: !!st.stoppedByUser, restartCount: st.restartCount ?? 0 };
    this.log(
      '%s %s (%s, restarts %d)',
      formatRef({ kind: 'Container', path: [...cellPath, id] }),
      exit.text,
      policy.policy,
      facts.restartCount,
    );
    if (restartsAfterExit(policy, facts)) {
      const delay = this.delayFor(key(cellPath, id), policy, facts.restartCount, st.startTime, finishTime);
      const due = new Date(Date.now() + delay).toISOString();
      Object.assign(st, { reason: 'CrashLoopBackOff', message: `${exit.text}; restarting in ${delay / 1000}s`, nextRestartAt: due });
      this.scheduleRestart(ctx, id, due);
      return;
    }
    if (exhausted(policy, facts)) {
      Object.assign(st, {
        state: 'Failed',
        message: `${exit.text}; gave up after ${facts.restartCount} restarts (restartMaxRetries ${policy.maxRetries})`,
      });
    }
    if (doc.spec.secrets?.length) this.o.onDown?.(cellPath, id);
  }

  /** The next delay for `k`; after a user's start (no restarts counted) it starts over from the policy's. */
  private delayFor(k: string, policy: Policy, restartCount: number, startTime: string | undefined, finishTime: string): number {
    const ran = startTime ? Date.parse(finishTime) - Date.parse(startTime) : 0;
    const previous = restartCount > 0 ? this.delays.get(k) : undefined;
    const delay = nextDelayMs(policy, previous, Number.isFinite(ran) ? ran : 0);
    this.delays.set(k, delay);
    return delay;
  }

  private scheduleRestart(ctx: CellContext, id: string, due: string): void {
    const cellPath = ctx.ref.path;
    this.later(
      key(cellPath, id),
      Date.parse(due) - Date.now(),
      () => void this.enqueue(cellPath, () => this.restartWorkload(cellPath, id)),
    );
  }

  /** A pending restart is due: the container starts again alone, in its cell's namespaces. */
  private restartWorkload(cellPath: readonly string[], id: string): Promise<void> {
    return this.withCell(cellPath, async (ctx) => {
      const doc = this.workloads(ctx).find((c) => c.metadata.name === id);
      const st = ctx.status.containers[id];
      if (!doc || !st?.nextRestartAt || st.stoppedByUser) return; // a user started, stopped or changed it meanwhile
      const root = await this.task(cellPath, ctx.rootId ?? SYNTHESIZED_ROOT);
      if (root?.status !== 'running') {
        // the root went: the cell is examined (and restarted as a whole) once this lock is released
        void this.enqueue(cellPath, () => this.examine(cellPath));
        return;
      }
      const last = { exitCode: st.exitCode, exitSignal: st.exitSignal, finishTime: st.finishTime };
      try {
        await this.o.lifecycle.restartContainer(ctx, doc);
        Object.assign(st, last, {
          restartCount: (st.restartCount ?? 0) + 1,
          restartTime: now(),
          nextRestartAt: undefined,
          reason: undefined,
          message: undefined,
        } satisfies ContainerStatus);
        this.noteOom(ctx, id, false, st.pid);
        this.log('%s restarted (restart %d)', formatRef({ kind: 'Container', path: [...cellPath, id] }), st.restartCount);
      } catch (err) {
        const message = `restart failed: ${isKukeonError(err) ? err.message : (err as Error).message}`;
        // as Docker's restart manager: a failed start counts as a failed run, and the policy decides again
        const policy = policyOf(doc.spec);
        const facts = { exitCode: 1, byUser: false, restartCount: (st.restartCount ?? 0) + 1 };
        if (restartsAfterExit(policy, facts)) {
          const delay = this.delayFor(key(cellPath, id), policy, facts.restartCount, undefined, now());
          const due = new Date(Date.now() + delay).toISOString();
          Object.assign(st, last, {
            state: 'Exited',
            restartCount: facts.restartCount,
            nextRestartAt: due,
            reason: 'CrashLoopBackOff',
            message: `${message}; retrying in ${delay / 1000}s`,
          } satisfies ContainerStatus);
          this.scheduleRestart(ctx, id, due);
        } else Object.assign(st, last, { state: 'Failed', nextRestartAt: undefined, reason: 'Error', message } satisfies ContainerStatus);
      }
      await this.settleCell(ctx);
    });
  }

  /**
   * The root died (or its task is gone): the cell goes down with it (workloads killed, network detached), then
   * starts again as a whole after the backoff when any container's policy asks for it; else it is left Stopped
   * (or Failed when on-failure gave up), with the root's exit as the reason.
   */
  private async rootExited(ctx: CellContext, ref: Ref, t: TaskState | undefined): Promise<void> {
    const cellPath = ctx.ref.path;
    const rootName = ctx.rootId ?? SYNTHESIZED_ROOT;
    const exit: ExitReading = t ? this.reading(ctx, rootName, true, t) : { exitCode: -1, reason: 'Error', text: 'its task is gone' };
    const asks = ctx.containers.map((c) => {
      const st = ctx.status.containers[c.metadata.name] ?? {};
      const facts = { exitCode: exit.exitCode, byUser: !!st.stoppedByUser, restartCount: st.restartCount ?? 0 };
      const policy = policyOf(c.spec);
      return { policy, restarts: restartsAfterExit(policy, facts), gaveUp: exhausted(policy, facts) };
    });
    const restart = asks.find((a) => a.restarts);
    this.log('%s: the root %s; %s', formatRef(ref), exit.text, restart ? 'restarting the cell' : 'stopping the cell');

    const rootSt = ctx.rootId ? ctx.status.containers[ctx.rootId] : undefined;
    const finishTime = t?.exitedAt ?? now();
    const message = `the root ${exit.text}`;
    const restarts = Math.max(0, ...Object.values(ctx.status.containers).map((c) => c.restartCount ?? 0));
    // a synthesized root has no status of its own: the cell's run began with its earliest container start
    const startTime = rootSt?.startTime ?? earliest(Object.values(ctx.status.containers).map((c) => c.startTime));
    const delay = restart ? this.delayFor(`${key(cellPath)}#cell`, restart.policy, restarts, startTime, finishTime) : 0;
    const due = new Date(Date.now() + delay).toISOString();
    const outcome = restart
      ? { state: 'Degraded' as const, reason: 'CrashLoopBackOff', message: `${message}; the cell restarts at ${due}` }
      : { state: asks.some((a) => a.gaveUp) ? ('Failed' as const) : ('Stopped' as const), reason: exit.reason, message };
    const scope = ctx.scope as HostOperationScope;
    await this.o.lifecycle.stop(ref, { scope, locked: true, stop: KILL, outcome });
    const down = await this.o.lifecycle.cellContext(ref, 'stop', { scope, stop: KILL });
    if (ctx.rootId)
      Object.assign(down.status.containers[ctx.rootId], {
        state: 'Exited',
        exitCode: exit.exitCode,
        exitSignal: exit.exitSignal,
        finishTime,
        reason: exit.reason,
        message: exit.text,
      } satisfies ContainerStatus);
    if (restart) for (const c of ctx.containers) down.status.containers[c.metadata.name].nextRestartAt = due;
    await this.o.lifecycle.persistCell(down);
    if (restart) this.scheduleCellRestart(down);
    else this.finished(down);
  }

  private scheduleCellRestart(ctx: CellContext): void {
    const cellPath = ctx.ref.path;
    const dues = Object.values(ctx.status.containers)
      .map((c) => (c.nextRestartAt ? Date.parse(c.nextRestartAt) : Number.NaN))
      .filter(Number.isFinite);
    const due = dues.length ? Math.min(...dues) : Date.now();
    this.later(`${key(cellPath)}#cell`, due - Date.now(), () => void this.enqueue(cellPath, () => this.restartCell(cellPath)));
  }

  /**
   * A cell restart that failed counts as a failed run: when a policy still asks, the cell is Degraded again with the
   * next (doubled) delay; else it stays Failed as the lifecycle recorded it.
   */
  private async retryCellLater(ref: Ref, scope: HostOperationScope, before: Map<string, ContainerStatus>, error: string): Promise<void> {
    const down = await this.o.lifecycle.cellContext(ref, 'stop', { scope, stop: KILL });
    const restarts = Math.max(0, ...[...before.values()].map((c) => c.restartCount ?? 0)) + 1;
    const policy = down.containers
      .map((c) => policyOf(c.spec))
      .find((p) => restartsAfterExit(p, { exitCode: 1, byUser: false, restartCount: restarts }));
    if (!policy) return;
    const delay = this.delayFor(`${key(ref.path)}#cell`, policy, restarts, undefined, now());
    const due = new Date(Date.now() + delay).toISOString();
    Object.assign(down.status, {
      state: 'Degraded',
      reason: 'CrashLoopBackOff',
      message: `restart failed: ${error}; the cell restarts at ${due}`,
    });
    for (const c of down.containers)
      Object.assign(down.status.containers[c.metadata.name], {
        restartCount: (before.get(c.metadata.name)?.restartCount ?? 0) + 1,
        nextRestartAt: due,
      } satisfies ContainerStatus);
    await this.o.lifecycle.persistCell(down);
    this.scheduleCellRestart(down);
  }

  /** A cell restart is due: stop what is left (KILL), then start root, network and workloads. */
  private restartCell(cellPath: readonly string[]): Promise<void> {
    return this.withCell(cellPath, async (ctx, ref) => {
      if (ctx.status.state !== 'Degraded') return;
      const root = await this.task(cellPath, ctx.rootId ?? SYNTHESIZED_ROOT);
      if (root?.status === 'running') return; // a user started it meanwhile
      const scope = ctx.scope as HostOperationScope;
      const before = new Map(Object.entries(ctx.status.containers).map(([id, st]) => [id, { ...st }]));
      try {
        await this.o.lifecycle.stop(ref, { scope, locked: true, stop: KILL });
        await this.o.lifecycle.start(ref, { scope, locked: true, supervised: true });
      } catch (err) {
        this.log('%s: restart failed: %s', formatRef(ref), (err as Error).message); // the lifecycle recorded it Failed
        await this.retryCellLater(ref, scope, before, (err as Error).message);
        return;
      }
      const up = await this.o.lifecycle.cellContext(ref, 'start', { scope, stop: KILL });
      for (const [id, st] of Object.entries(up.status.containers)) {
        const prev = before.get(id) ?? {};
        Object.assign(st, {
          restartCount: (prev.restartCount ?? 0) + 1,
          restartTime: now(),
          nextRestartAt: undefined,
          exitCode: prev.exitCode,
          exitSignal: prev.exitSignal,
          finishTime: prev.finishTime,
          reason: st.state === 'Ready' ? undefined : st.reason,
          message: st.state === 'Ready' ? undefined : st.message,
        } satisfies ContainerStatus);
        this.noteOom(up, id, id === up.rootId, st.pid);
      }
      await this.o.lifecycle.persistCell(up);
      this.log('%s restarted as a whole', formatRef(ref));
    });
  }
}
