// Runs one phase for one resource: takes the resource's lock for the whole phase, loads the context from the
// saved status of the resource and its parents, calls the hooks, and persists the status the taps set
// (after each cell step, failures included). Create and start unwind their undos when a later step fails.
// Every phase runs inside the caller's operation scope: its contexts carry it, and its signal aborts the phase.

import { KukeonError, childKind, formatRef, isKukeonError, toKukeonError } from '../../../sdk';
import type {
  AnyDoc,
  CellContext,
  CellDoc,
  CellWorkingStatus,
  ContainerContext,
  ContainerDoc,
  ContainerStatus,
  Doc,
  Kind,
  Locks,
  Parents,
  Phase,
  Ref,
  ResourceContext,
  State,
  StatusOf,
  StopOptions,
  StoreService,
} from '../../../sdk';
import type { HostHooks } from '../hooks';
import type { HostStateReader } from '../state-reader';
import type { HostOperationScope } from '../operation-scope';
import { assembleCell, containerDoc, rootIdOf, sortContainers, splitCell } from './cell-documents';
import { canonical } from './diff';

export interface LifecycleDeps {
  hooks: HostHooks;
  store: () => StoreService;
  state: HostStateReader;
  locks: Locks;
  /** Whether a runtime plugin is loaded and ok (only start needs one). */
  hasRuntime: () => boolean;
  lockTimeoutMs: number;
}

/**
 * States in which a cell's root runs: `Ready`, `Degraded` (a restart is pending) and `Exited` (its workloads
 * finished, the root stays). apply starts only a cell in none of them: a finished job is not run again, and a
 * pending restart keeps its backoff and count.
 */
export const RUNNING_STATES: ReadonlySet<State | undefined> = new Set<State | undefined>(['Ready', 'Degraded', 'Exited']);

export const DEFAULT_STOP: StopOptions = { signal: 'SIGTERM', timeoutMs: 10_000 };
export const KILL: StopOptions = { signal: 'SIGKILL', timeoutMs: 0 };

/** What every phase takes: the operation it belongs to, and whether that operation already holds the resource's lock. */
export interface PhaseOptions {
  scope: HostOperationScope;
  /** The caller holds the resource's lock (checked against the scope). */
  locked?: boolean;
}

export interface StopPhaseOptions extends PhaseOptions {
  /** How the processes end; `DEFAULT_STOP` when unset. */
  stop?: StopOptions;
  /** A user's stop or kill: recorded on the containers (`stoppedByUser`) so the supervisor leaves them stopped. */
  byUser?: boolean;
  /** What the cell records once stopped (the supervisor's state and reason after its root died); `Stopped` when unset. */
  outcome?: Pick<CellWorkingStatus, 'state' | 'reason' | 'message'>;
}

export interface StartPhaseOptions extends PhaseOptions {
  /** Started by the supervisor: restart counts and the user's stop are kept (a user's start resets them). */
  supervised?: boolean;
}

/** What a user's start clears on every container: the supervisor's record of earlier exits and restarts. */
const SUPERVISION_RESET: Partial<ContainerStatus> = {
  stoppedByUser: undefined,
  restartCount: undefined,
  restartTime: undefined,
  nextRestartAt: undefined,
  exitSignal: undefined,
  reason: undefined,
  message: undefined,
};

export interface RemoveOptions extends PhaseOptions {
  /** Go on past backend errors (reported as warnings) and kill rather than stop gracefully. */
  force?: boolean;
}

export interface CellContextOptions {
  scope: HostOperationScope;
  stop?: StopOptions;
  force?: boolean;
}

const now = () => new Date().toISOString();

export function lockName(ref: Ref): string {
  return `res.${ref.kind.toLowerCase()}.${ref.path.join('.')}`;
}

/** The message and code recorded on a failed resource. */
function failureOf(err: unknown, undoFailures: string[] = []): { reason: string; message: string } {
  const e = toKukeonError(err, 'KUKEON_E_STEP');
  return { reason: e.code, message: [e.message, ...undoFailures].join('; ') };
}

export class Lifecycle {
  private readonly lastWritten = new WeakMap<CellWorkingStatus, Map<string, string>>();

  constructor(private readonly d: LifecycleDeps) {}

  private get store(): StoreService {
    return this.d.store();
  }

  /** Runs `fn` holding the resource's lock on behalf of `scope`; an aborted operation stops once the lock is taken. */
  withLock<T>(ref: Ref, scope: HostOperationScope, fn: () => Promise<T>): Promise<T> {
    const name = lockName(ref);
    return this.d.locks.with(
      name,
      () =>
        scope.holding(name, async () => {
          scope.throwIfAborted();
          return fn();
        }),
      { timeoutMs: this.d.lockTimeoutMs },
    );
  }

  /** `fn` under the resource's lock, taken here unless the caller says its operation holds it already. */
  private locked<T>(ref: Ref, options: PhaseOptions, fn: () => Promise<T>): Promise<T> {
    if (!options.locked) return this.withLock(ref, options.scope, fn);
    if (!options.scope.holds(lockName(ref)))
      throw new KukeonError('KUKEON_E_INTERNAL', `${formatRef(ref)}: called as locked by an operation that does not hold its lock`);
    options.scope.throwIfAborted();
    return fn();
  }

  /** The stored cell with its containers. */
  async loadCell(ref: Ref, stored?: CellDoc): Promise<{ cell: CellDoc; containers: ContainerDoc[] } | undefined> {
    const cell = stored ?? (await this.store.get({ kind: 'Cell', path: ref.path }));
    if (!cell) return undefined;
    const containers = await this.store.list('Container', ref.path);
    const assembled = assembleCell(cell, containers);
    return { cell: assembled, containers: sortContainers(containers, rootIdOf(assembled.spec)) };
  }

  async cellContext(ref: Ref, phase: Phase, options: CellContextOptions): Promise<CellContext> {
    const loaded = await this.loadCell(ref);
    if (!loaded) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
    return this.cellContextOf(ref, phase, loaded.cell, loaded.containers, options);
  }

  private async cellContextOf(
    ref: Ref,
    phase: Phase,
    cell: CellDoc,
    containers: ContainerDoc[],
    { scope, stop, force = false }: CellContextOptions,
  ): Promise<CellContext> {
    const status: CellWorkingStatus = { ...(cell.status ?? {}), containers: {} };
    for (const c of containers) status.containers[c.metadata.name] = { ...(c.status ?? {}) };
    const seen = this.written(status);
    seen.set('', canonical({ ...(cell.status ?? {}), updatedAt: undefined }));
    for (const c of containers) seen.set(c.metadata.name, canonical({ ...(c.status ?? {}), updatedAt: undefined }));
    return {
      phase,
      ref: { kind: 'Cell', path: ref.path },
      doc: cell,
      parents: await this.d.state.parents(ref),
      force,
      signal: scope.signal,
      scope,
      containers,
      rootId: rootIdOf(cell.spec),
      status,
      stop,
    };
  }

  containerContext(cell: CellContext, doc: ContainerDoc): ContainerContext {
    const id = doc.metadata.name;
    cell.status.containers[id] ??= {};
    return {
      phase: cell.phase,
      ref: { kind: 'Container', path: [...cell.ref.path, id] },
      doc,
      parents: { ...cell.parents, cell: cell.doc },
      force: cell.force,
      signal: cell.signal,
      scope: cell.scope,
      cell,
      status: cell.status.containers[id],
      stop: cell.stop,
    };
  }

  /**
   * Writes the cell's status and each declared container's status, merged under the store lock. A status that
   * did not change since it was loaded or last written is not written again (each write is an fsync'd rename).
   */
  async persistCell(ctx: CellContext): Promise<void> {
    const { containers, ...own } = ctx.status;
    const stamp = now();
    const written = this.written(ctx.status);
    const unchanged = (key: string, status: object) => {
      const form = canonical({ ...status, updatedAt: undefined });
      if (written.get(key) === form) return true;
      written.set(key, form);
      return false;
    };
    if (!unchanged('', own)) {
      await this.store.update({ kind: 'Cell', path: ctx.ref.path }, (cur) =>
        cur ? { ...cur, status: { ...cur.status, ...own, updatedAt: stamp } } : undefined,
      );
    }
    for (const [id, st] of Object.entries(containers)) {
      if (unchanged(id, st)) continue;
      await this.store.update({ kind: 'Container', path: [...ctx.ref.path, id] }, (cur) =>
        cur ? { ...cur, status: { ...cur.status, ...(st as ContainerStatus), updatedAt: stamp } } : undefined,
      );
    }
  }

  /** Sets the cell's own status fields and persists. */
  private recordCell(ctx: CellContext, fields: Partial<CellWorkingStatus>): Promise<void> {
    Object.assign(ctx.status, fields);
    return this.persistCell(ctx);
  }

  /** What was last written (or loaded) per status object: '' for the cell, container ids for containers. */
  private written(status: CellWorkingStatus): Map<string, string> {
    let m = this.lastWritten.get(status);
    if (!m) this.lastWritten.set(status, (m = new Map()));
    return m;
  }

  /** Writes the status fields, unless they are what the record already says (a converge pass writes nothing). */
  private async persist(ref: Ref, status: object): Promise<void> {
    const stamp = now();
    await this.store.update(ref, (cur) => {
      if (!cur) return undefined;
      const next = { ...cur, status: { ...cur.status, ...status, updatedAt: stamp } } as Doc<Kind>;
      return unstamped(next) === unstamped(cur) ? undefined : next;
    });
  }

  /**
   * Creates (or converges) a resource: the record is written first, so a crash leaves something `purge` finds;
   * then the create taps run. Create taps must be idempotent: a re-apply runs them again.
   */
  create(doc: AnyDoc, ref: Ref, options: PhaseOptions): Promise<void> {
    return this.locked(ref, options, () => this.createLocked(doc, ref, options.scope.child()));
  }

  private async createLocked(doc: AnyDoc, ref: Ref, scope: HostOperationScope): Promise<void> {
    const existing = await this.store.get(ref);
    const createdAt = existing?.status?.createdAt ?? now();
    if (doc.kind === 'Cell') return this.createCell(doc, ref, existing as CellDoc | undefined, createdAt, scope);
    if (doc.kind === 'Container') throw new KukeonError('KUKEON_E_USAGE', 'containers are created by applying their cell');
    const status = {
      ...(existing?.status ?? {}),
      state: existing?.status?.state === 'Ready' ? 'Ready' : 'Pending',
      createdAt,
      updatedAt: now(),
    } as StatusOf[ResourceKind];
    delete status.reason;
    delete status.message;
    const record = { ...doc, status } as AnyDoc;
    // a re-create of what is recorded (the tree converged after a reboot) rewrites nothing
    if (!existing || unstamped(record) !== unstamped(existing)) scope.committed(ref, await this.store.put(record));
    const ctx = await this.resourceContext('create', ref, doc, status, { scope });
    await this.undoable(
      scope,
      async () => {
        await this.d.hooks.create.for(doc.kind).promise(ctx);
        await this.persist(ref, { ...ctx.status, state: 'Ready', reason: undefined, message: undefined });
      },
      (failed) => this.persist(ref, { ...ctx.status, state: 'Failed', ...failed }),
    );
  }

  /** The context of a Realm, Space or Stack phase. */
  private async resourceContext<K extends ResourceKind>(
    phase: Phase,
    ref: Ref,
    doc: Doc<K>,
    status: StatusOf[K],
    { scope, force = false, parents }: { scope: HostOperationScope; force?: boolean; parents?: Parents },
  ): Promise<ResourceContext<K>> {
    return {
      phase,
      ref: ref as Ref & { kind: K },
      doc,
      parents: parents ?? (await this.d.state.parents(ref)),
      force,
      signal: scope.signal,
      scope,
      status,
    };
  }

  private async createCell(
    doc: CellDoc,
    ref: Ref,
    existing: CellDoc | undefined,
    createdAt: string,
    scope: HostOperationScope,
  ): Promise<void> {
    const { cell, containers } = splitCell(doc);
    const keepState = existing?.status?.state && existing.status.state !== 'Failed' ? existing.status.state : 'Pending';
    const cellStatus = { ...(existing?.status ?? {}), state: keepState, createdAt, updatedAt: now() };
    delete cellStatus.reason;
    delete cellStatus.message;
    try {
      scope.committed(ref, await this.store.put({ ...cell, status: cellStatus }));
      for (const c of containers) {
        const cur = await this.store.get({ kind: 'Container', path: [...ref.path, c.metadata.name] });
        scope.committed(ref, await this.store.put({ ...c, status: cur?.status ?? { state: 'Pending', createdAt: now() } }));
      }
    } catch (err) {
      // A new cell whose record could not be written whole (a full disk) is not left with half its containers.
      if (!existing) await this.store.remove(ref).catch(() => undefined);
      throw err;
    }
    const ctx = await this.cellContext(ref, 'create', { scope });
    await this.undoable(
      scope,
      async () => {
        await this.d.hooks.create.for('Cell').promise(ctx);
        for (const c of ctx.containers) await this.d.hooks.create.for('Container').promise(this.containerContext(ctx, c));
        await this.persistCell(ctx);
      },
      (failed) => this.recordCell(ctx, { state: 'Failed', ...failed }),
    );
  }

  /**
   * Runs a create or start whose contexts carry `scope`: when it fails (an abort of the operation included), the
   * undos its taps returned run last first (their failures join the message) and `fail` records the resource
   * Failed; the error is rethrown.
   */
  private async undoable(
    scope: HostOperationScope,
    run: () => Promise<void>,
    fail: (failed: { reason: string; message: string }) => Promise<void>,
  ): Promise<void> {
    try {
      await run();
    } catch (err) {
      await fail(failureOf(err, await scope.undo.unwind()));
      throw err;
    }
  }

  /** Starts a cell: its steps run as the host's tap of `start.Cell`; a failure unwinds and records Failed. */
  async start(ref: Ref, options: StartPhaseOptions): Promise<void> {
    if (!this.d.hasRuntime())
      throw new KukeonError('KUKEON_E_NO_RUNTIME', `cannot start ${formatRef(ref)}: no runtime plugin is loaded (configure containerd)`);
    await this.locked(ref, options, async () => {
      const scope = options.scope.child();
      const ctx = await this.cellContext(ref, 'start', { scope });
      if (!options.supervised) for (const st of Object.values(ctx.status.containers)) Object.assign(st, SUPERVISION_RESET);
      await this.undoable(
        scope,
        async () => {
          await this.d.hooks.start.for('Cell').promise(ctx);
          await this.recordCell(ctx, { state: 'Ready', reason: undefined, message: undefined });
        },
        (failed) => this.recordCell(ctx, { state: 'Failed', ...failed }),
      );
    });
  }

  /** Stops a cell: every stop step runs even when an earlier one fails (nothing to undo); errors are reported after. */
  async stop(ref: Ref, options: StopPhaseOptions): Promise<void> {
    await this.locked(ref, options, async () => {
      const ctx = await this.cellContext(ref, 'stop', { scope: options.scope, stop: options.stop ?? DEFAULT_STOP });
      if (options.byUser)
        for (const st of Object.values(ctx.status.containers)) {
          st.stoppedByUser = true;
          // a pending restart is called off: no "restarting in ..." left on a stopped container
          st.nextRestartAt = undefined;
          if (st.reason === 'CrashLoopBackOff') Object.assign(st, { reason: undefined, message: undefined });
        }
      try {
        await this.d.hooks.stop.for('Cell').promise(ctx);
        await this.recordCell(ctx, options.outcome ?? { state: 'Stopped', reason: undefined, message: undefined });
      } catch (err) {
        await this.recordCell(ctx, { state: 'Failed', ...failureOf(err) });
        throw err;
      }
    });
  }

  /**
   * Deletes one resource whose children are already gone (a cell's containers belong to it and go with it).
   * With `force`, backend errors are reported but the record is removed anyway; without, the record stays Failed.
   */
  remove(ref: Ref, options: RemoveOptions): Promise<string[]> {
    const { scope, force = false } = options;
    return this.locked(ref, options, async () => {
      const warnings: string[] = [];
      const guard = async (fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (err) {
          if (!force) throw err;
          warnings.push(`${formatRef(ref)}: ${isKukeonError(err) ? err.message : (err as Error).message} (continued: --force)`);
        }
      };
      if (ref.kind === 'Cell') {
        // forced (purge, delete --force) kills at once, as `podman rm -f` does; a plain delete stops gracefully
        const ctx = await this.cellContext(ref, 'delete', { scope, stop: force ? KILL : DEFAULT_STOP, force });
        try {
          await guard(() => this.d.hooks.stop.for('Cell').promise({ ...ctx, phase: 'stop' }));
          for (const c of [...ctx.containers].reverse())
            await guard(() => this.d.hooks.delete.for('Container').promise(this.containerContext(ctx, c)));
          await guard(() => this.d.hooks.delete.for('Cell').promise(ctx));
        } catch (err) {
          await this.recordCell(ctx, { state: 'Failed', ...failureOf(err) });
          throw err;
        }
      } else if (ref.kind === 'Container') {
        throw new KukeonError('KUKEON_E_USAGE', 'containers are deleted with their cell, or by applying the cell without them');
      } else {
        const doc = (await this.store.get(ref)) as Doc<ResourceKind> | undefined;
        if (!doc) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
        const ctx = await this.resourceContext('delete', ref, doc, { ...(doc.status ?? {}) }, { scope, force });
        try {
          await guard(() => this.d.hooks.delete.for(ref.kind).promise(ctx));
        } catch (err) {
          await this.persist(ref, { ...ctx.status, state: 'Failed', ...failureOf(err) });
          throw err;
        }
      }
      // --force goes on past backend errors, never past an abort: the record stays for a later delete or purge.
      scope.throwIfAborted();
      await this.refuseNewChildren(ref);
      scope.committed(ref, await this.store.remove(ref, { childless: true }));
      return warnings;
    });
  }

  /**
   * The store removes a record with everything under it: a child that another process created after the cascade
   * listed the children must not go with it while its containers run. (Inside one process, intent locks keep
   * applies out of a subtree being deleted; this covers the others.) This check names the newcomers; the store's
   * `childless` removal repeats it under the store lock, where no child can be put between the check and the removal.
   */
  async refuseNewChildren(ref: Ref): Promise<void> {
    const child = ref.kind === 'Cell' || ref.kind === 'Container' ? undefined : childKind(ref.kind);
    const left = child ? await this.store.list(child, ref.path).catch(() => []) : []; // unreadable: purge's sweep decides
    if (left.length) {
      throw new KukeonError(
        'KUKEON_E_HAS_CHILDREN',
        `${formatRef(ref)} got ${left.length} new ${child!.toLowerCase()}(s) while it was being deleted (${left.map((c) => c.metadata.name).join(', ')}); it was kept`,
      );
    }
  }

  /** Removes a container of a cell while the cell's lock is held (apply of a cell without it). */
  async removeContainer(cell: CellContext, doc: ContainerDoc, running: boolean): Promise<void> {
    const cctx = this.containerContext({ ...cell, stop: DEFAULT_STOP }, doc);
    if (running) await this.d.hooks.stop.for('Container').promise({ ...cctx, phase: 'stop' });
    await this.d.hooks.delete.for('Container').promise({ ...cctx, phase: 'delete' });
    await this.store.remove(cctx.ref);
    delete cell.status.containers[doc.metadata.name];
  }

  /** Whether a container whose `resources` alone changed can keep running: a plugin taps the update hook. */
  canUpdateContainers(): boolean {
    return this.d.hooks.update.for('Container').isUsed();
  }

  /**
   * Applies a container's new `resources` in place while the cell's lock is held: its update taps run when the cell
   * runs (a stopped cell's containers get them at their next start). The cell's create writes its record after.
   */
  async updateContainer(cell: CellContext, doc: ContainerDoc, running: boolean): Promise<void> {
    if (!running) return;
    const cctx = this.containerContext(cell, doc);
    await this.d.hooks.update.for('Container').promise({ ...cctx, phase: 'update' });
  }

  /**
   * Adds or recreates a container of a cell while the cell's lock is held; starts it when the cell runs. When its
   * create or start fails, the undos its taps returned run (the cell itself is left as it was).
   */
  async addContainer(cell: CellContext, doc: ContainerDoc, running: boolean): Promise<void> {
    const stored = containerDoc(cell.doc, doc.spec, { state: 'Pending', createdAt: now() });
    await this.store.put(stored);
    const scope = (cell.scope as HostOperationScope).child();
    const cctx = this.containerContext({ ...cell, scope }, stored);
    Object.assign(cctx.status, stored.status);
    try {
      await this.d.hooks.create.for('Container').promise({ ...cctx, phase: 'create' });
      if (running) await this.d.hooks.start.for('Container').promise({ ...cctx, phase: 'start' });
    } catch (err) {
      const undoFailures = await scope.undo.unwind();
      if (!undoFailures.length) throw err;
      const e = toKukeonError(err, 'KUKEON_E_STEP');
      throw new KukeonError(e.code, [e.message, ...undoFailures].join('; '), e.details, { cause: err });
    }
  }

  /**
   * Restarts one container of a running cell while the cell's lock is held (the supervisor, after it exited): its
   * stop taps (which delete the exited task) then its start taps, which join the running root's namespaces. When
   * the start fails, the undos its taps returned run and the error is rethrown.
   */
  async restartContainer(cell: CellContext, doc: ContainerDoc): Promise<void> {
    const scope = (cell.scope as HostOperationScope).child();
    const cctx = this.containerContext({ ...cell, scope, stop: KILL }, doc);
    await this.d.hooks.stop.for('Container').promise({ ...cctx, phase: 'stop' });
    try {
      await this.d.hooks.start.for('Container').promise({ ...cctx, phase: 'start' });
    } catch (err) {
      const undoFailures = await scope.undo.unwind();
      if (!undoFailures.length) throw err;
      const e = toKukeonError(err, 'KUKEON_E_STEP');
      throw new KukeonError(e.code, [e.message, ...undoFailures].join('; '), e.details, { cause: err });
    }
  }

  /**
   * Starts one container of a running cell (`docker start` of a created container; CRI's StartContainer): its
   * start taps join the root's namespaces. A user's start clears what the supervisor recorded of earlier exits.
   */
  async startContainer(ref: Ref, options: StartPhaseOptions): Promise<void> {
    const cellRef: Ref = { kind: 'Cell', path: ref.path.slice(0, 4) };
    await this.locked(cellRef, options, async () => {
      const scope = options.scope.child();
      const ctx = await this.cellContext(cellRef, 'start', { scope });
      const doc = this.workload(ctx, ref);
      if (!RUNNING_STATES.has(ctx.status.state))
        throw new KukeonError(
          'KUKEON_E_STATE',
          `cannot start ${formatRef(ref)}: its cell is ${ctx.status.state ?? 'not started'} (start the cell)`,
        );
      const cctx = this.containerContext(ctx, doc);
      Object.assign(cctx.status, SUPERVISION_RESET);
      try {
        await this.d.hooks.start.for('Container').promise({ ...cctx, phase: 'start' });
      } catch (err) {
        const undoFailures = await scope.undo.unwind();
        Object.assign(cctx.status, { state: 'Failed' as const, ...failureOf(err, undoFailures) });
        await this.persistCell(ctx);
        throw err;
      }
      await this.persistCell(ctx);
    });
  }

  /** Stops one container of a cell (a user's stop: the supervisor leaves it stopped); the cell and its root run on. */
  async stopContainer(ref: Ref, options: StopPhaseOptions): Promise<void> {
    const cellRef: Ref = { kind: 'Cell', path: ref.path.slice(0, 4) };
    await this.locked(cellRef, options, async () => {
      const ctx = await this.cellContext(cellRef, 'stop', { scope: options.scope, stop: options.stop ?? DEFAULT_STOP });
      const cctx = this.containerContext(ctx, this.workload(ctx, ref));
      Object.assign(cctx.status, { stoppedByUser: true, nextRestartAt: undefined });
      try {
        await this.d.hooks.stop.for('Container').promise({ ...cctx, phase: 'stop' });
      } finally {
        await this.persistCell(ctx);
      }
    });
  }

  /** The workload container `ref` names in `ctx`; its root is started and stopped only with the cell. */
  private workload(ctx: CellContext, ref: Ref): ContainerDoc {
    const id = ref.path[4];
    const doc = ctx.containers.find((c) => c.metadata.name === id);
    if (!doc) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
    if (id === ctx.rootId)
      throw new KukeonError('KUKEON_E_USAGE', `${formatRef(ref)} is its cell's root: it starts and stops with the cell`);
    return doc;
  }

  /** Runs the purge taps for a ref, with whatever is stored (or a bare document when nothing is). */
  async sweep(ref: Ref, doc: AnyDoc | undefined, { scope }: { scope: HostOperationScope }): Promise<void> {
    if (ref.kind === 'Cell') {
      const cellDoc =
        (doc as CellDoc | undefined) ??
        ({
          apiVersion: 'v1beta1',
          kind: 'Cell',
          metadata: { name: ref.path[3] },
          spec: { realmId: ref.path[0], spaceId: ref.path[1], stackId: ref.path[2], containers: [] },
        } as CellDoc);
      const ctx = await this.cellContextOf(ref, 'purge', cellDoc, [], { scope, stop: KILL, force: true });
      await this.d.hooks.purge.for('Cell').promise(ctx);
      return;
    }
    if (ref.kind === 'Container') throw new KukeonError('KUKEON_E_USAGE', 'containers are purged with their cell');
    const bare = (doc ??
      ({
        apiVersion: 'v1beta1',
        kind: ref.kind,
        metadata: { name: ref.path[ref.path.length - 1] },
        spec: {},
      } as AnyDoc)) as Doc<ResourceKind>;
    const parents = await this.d.state.parents(ref).catch(() => ({}));
    const ctx = await this.resourceContext('purge', ref, bare, { ...(bare.status ?? {}) }, { scope, force: true, parents });
    await this.d.hooks.purge.for(ref.kind).promise(ctx);
  }
}

type ResourceKind = 'Realm' | 'Space' | 'Stack';

/** A record as text without its status's `updatedAt`: equal when a write would change nothing else. */
function unstamped(doc: { status?: object }): string {
  return canonical({ ...doc, status: doc.status && { ...doc.status, updatedAt: undefined } });
}
