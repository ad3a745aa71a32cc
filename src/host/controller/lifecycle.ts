// Runs one phase for one resource: takes the resource's lock for the whole phase, loads the context from the
// saved status of the resource and its parents, calls the hooks, and persists the status the taps set
// (after each cell step, failures included). Create and start unwind their undos when a later step fails.

import { KukeonError, formatRef, isKukeonError, toKukeonError } from '../../../sdk';
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
  Phase,
  Ref,
  ResourceContext,
  StopOptions,
  StoreService,
} from '../../../sdk';
import type { HostHooks } from '../hooks';
import type { HostStateReader } from '../state-reader';
import { UndoStack } from '../undo-stack';
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

export const DEFAULT_STOP: StopOptions = { signal: 'SIGTERM', timeoutMs: 10_000 };
export const KILL: StopOptions = { signal: 'SIGKILL', timeoutMs: 0 };

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

  withLock<T>(ref: Ref, fn: () => Promise<T>): Promise<T> {
    return this.d.locks.with(lockName(ref), fn, { timeoutMs: this.d.lockTimeoutMs });
  }

  /** The stored cell with its containers. */
  async loadCell(ref: Ref): Promise<{ cell: CellDoc; containers: ContainerDoc[] } | undefined> {
    const cell = await this.store.get({ kind: 'Cell', path: ref.path });
    if (!cell) return undefined;
    const containers = await this.store.list('Container', ref.path);
    return { cell: assembleCell(cell, containers), containers: sortContainers(containers, rootIdOf(assembleCell(cell, containers).spec)) };
  }

  async cellContext(ref: Ref, phase: Phase, stop?: StopOptions, force = false): Promise<CellContext> {
    const loaded = await this.loadCell(ref);
    if (!loaded) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
    return this.cellContextOf(ref, phase, loaded.cell, loaded.containers, stop, force);
  }

  private async cellContextOf(
    ref: Ref,
    phase: Phase,
    cell: CellDoc,
    containers: ContainerDoc[],
    stop?: StopOptions,
    force = false,
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
      signal: new AbortController().signal,
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

  private async persist(ref: Ref, status: object): Promise<void> {
    const stamp = now();
    await this.store.update(ref, (cur) =>
      cur ? ({ ...cur, status: { ...cur.status, ...status, updatedAt: stamp } } as Doc<Kind>) : undefined,
    );
  }

  /**
   * Creates (or converges) a resource: the record is written first, so a crash leaves something `purge` finds;
   * then the create taps run. Create taps must be idempotent: a re-apply runs them again.
   */
  create(doc: AnyDoc, ref: Ref): Promise<void> {
    return this.withLock(ref, () => this.createLocked(doc, ref));
  }

  /** create() for a caller that already holds the resource's lock. */
  async createLocked(doc: AnyDoc, ref: Ref): Promise<void> {
    {
      const existing = await this.store.get(ref);
      const createdAt = existing?.status?.createdAt ?? now();
      if (doc.kind === 'Cell') return this.createCell(doc, ref, existing as CellDoc | undefined, createdAt);
      const status = {
        ...(existing?.status ?? {}),
        state: existing?.status?.state === 'Ready' ? 'Ready' : 'Pending',
        createdAt,
        updatedAt: now(),
      } as Record<string, unknown>;
      delete status.reason;
      delete status.message;
      await this.store.put({ ...doc, status } as AnyDoc);
      const ctx: ResourceContext<'Realm'> = {
        phase: 'create',
        ref: ref as Ref & { kind: 'Realm' },
        doc: doc as Doc<'Realm'>,
        parents: await this.d.state.parents(ref),
        force: false,
        signal: new AbortController().signal,
        status: status as ResourceContext<'Realm'>['status'],
      };
      await this.undoable(
        ctx,
        async () => {
          await this.d.hooks.create.for(doc.kind).promise(ctx);
          await this.persist(ref, { ...ctx.status, state: 'Ready', reason: undefined, message: undefined });
        },
        (failed) => this.persist(ref, { ...ctx.status, state: 'Failed', ...failed }),
      );
    }
  }

  private async createCell(doc: CellDoc, ref: Ref, existing: CellDoc | undefined, createdAt: string): Promise<void> {
    const { cell, containers } = splitCell(doc);
    const keepState = existing?.status?.state && existing.status.state !== 'Failed' ? existing.status.state : 'Pending';
    const cellStatus = { ...(existing?.status ?? {}), state: keepState, createdAt, updatedAt: now() };
    delete cellStatus.reason;
    delete cellStatus.message;
    await this.store.put({ ...cell, status: cellStatus });
    for (const c of containers) {
      const cur = await this.store.get({ kind: 'Container', path: [...ref.path, c.metadata.name] });
      await this.store.put({ ...c, status: cur?.status ?? { state: 'Pending', createdAt: now() } });
    }
    const ctx = await this.cellContext(ref, 'create');
    await this.undoable(
      ctx,
      async (undo) => {
        await this.d.hooks.create.for('Cell').promise(ctx);
        for (const c of ctx.containers) {
          const cctx = this.containerContext(ctx, c);
          undo.bind(cctx);
          await this.d.hooks.create.for('Container').promise(cctx);
        }
        await this.persistCell(ctx);
      },
      (failed) => this.recordCell(ctx, { state: 'Failed', ...failed }),
    );
  }

  /**
   * Runs a create or start with an undo stack bound to its context: when it fails, the undos run last first
   * (their failures join the message) and `fail` records the resource Failed; the error is rethrown.
   */
  private async undoable(
    ctx: object,
    run: (undo: UndoStack) => Promise<void>,
    fail: (failed: { reason: string; message: string }) => Promise<void>,
  ): Promise<void> {
    const undo = new UndoStack();
    undo.bind(ctx);
    try {
      await run(undo);
    } catch (err) {
      await fail(failureOf(err, await undo.unwind()));
      throw err;
    }
  }

  /** Starts a cell: its steps run as the host's tap of `start.Cell`; a failure unwinds and records Failed. */
  async start(ref: Ref): Promise<void> {
    if (!this.d.hasRuntime())
      throw new KukeonError('KUKEON_E_NO_RUNTIME', `cannot start ${formatRef(ref)}: no runtime plugin is loaded (configure containerd)`);
    await this.withLock(ref, async () => {
      const ctx = await this.cellContext(ref, 'start');
      await this.undoable(
        ctx,
        async () => {
          await this.d.hooks.start.for('Cell').promise(ctx);
          await this.recordCell(ctx, { state: 'Ready', reason: undefined, message: undefined });
        },
        (failed) => this.recordCell(ctx, { state: 'Failed', ...failed }),
      );
    });
  }

  /** Stops a cell: every stop step runs even when an earlier one fails (nothing to undo); errors are reported after. */
  async stop(ref: Ref, options: StopOptions = DEFAULT_STOP, locked = false): Promise<void> {
    const run = async () => {
      const ctx = await this.cellContext(ref, 'stop', options);
      await this.stopContext(ctx);
    };
    await (locked ? run() : this.withLock(ref, run));
  }

  private async stopContext(ctx: CellContext): Promise<void> {
    try {
      await this.d.hooks.stop.for('Cell').promise(ctx);
      await this.recordCell(ctx, { state: 'Stopped', reason: undefined, message: undefined });
    } catch (err) {
      await this.recordCell(ctx, { state: 'Failed', ...failureOf(err) });
      throw err;
    }
  }

  /**
   * Deletes one resource whose children are already gone (a cell's containers belong to it and go with it).
   * With `force`, backend errors are reported but the record is removed anyway; without, the record stays Failed.
   */
  async remove(ref: Ref, force: boolean, locked = false): Promise<string[]> {
    const run = async (): Promise<string[]> => {
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
        const ctx = await this.cellContext(ref, 'delete', force ? KILL : DEFAULT_STOP, force);
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
        const doc = await this.store.get(ref);
        if (!doc) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
        const ctx = {
          phase: 'delete' as const,
          ref,
          doc,
          parents: await this.d.state.parents(ref),
          force,
          signal: new AbortController().signal,
          status: { ...(doc.status ?? {}) },
        };
        try {
          await guard(() => this.d.hooks.delete.for(ref.kind).promise(ctx));
        } catch (err) {
          await this.persist(ref, { ...ctx.status, state: 'Failed', ...failureOf(err) });
          throw err;
        }
      }
      await this.store.remove(ref);
      return warnings;
    };
    return locked ? run() : this.withLock(ref, run);
  }

  /** Removes a container of a cell while the cell's lock is held (apply of a cell without it). */
  async removeContainer(cell: CellContext, doc: ContainerDoc, running: boolean): Promise<void> {
    const cctx = this.containerContext({ ...cell, stop: DEFAULT_STOP }, doc);
    if (running) await this.d.hooks.stop.for('Container').promise({ ...cctx, phase: 'stop' });
    await this.d.hooks.delete.for('Container').promise({ ...cctx, phase: 'delete' });
    await this.store.remove(cctx.ref);
    delete cell.status.containers[doc.metadata.name];
  }

  /** Adds or recreates a container of a cell while the cell's lock is held; starts it when the cell runs. */
  async addContainer(cell: CellContext, doc: ContainerDoc, running: boolean): Promise<void> {
    const stored = containerDoc(cell.doc, doc.spec, { state: 'Pending', createdAt: now() });
    await this.store.put(stored);
    const cctx = this.containerContext(cell, stored);
    Object.assign(cctx.status, stored.status);
    await this.d.hooks.create.for('Container').promise({ ...cctx, phase: 'create' });
    if (running) await this.d.hooks.start.for('Container').promise({ ...cctx, phase: 'start' });
  }

  /** Runs the purge taps for a ref, with whatever is stored (or a bare document when nothing is). */
  async sweep(ref: Ref, doc: AnyDoc | undefined): Promise<void> {
    const parents = await this.d.state.parents(ref).catch(() => ({}));
    const base = { phase: 'purge' as const, ref, parents, force: true, signal: new AbortController().signal };
    if (ref.kind === 'Cell') {
      const cellDoc =
        (doc as CellDoc | undefined) ??
        ({
          apiVersion: 'v1beta1',
          kind: 'Cell',
          metadata: { name: ref.path[3] },
          spec: { realmId: ref.path[0], spaceId: ref.path[1], stackId: ref.path[2], containers: [] },
        } as CellDoc);
      const ctx = await this.cellContextOf(ref, 'purge', cellDoc, [], KILL, true);
      await this.d.hooks.purge.for('Cell').promise(ctx);
      return;
    }
    const bare = doc ?? ({ apiVersion: 'v1beta1', kind: ref.kind, metadata: { name: ref.path[ref.path.length - 1] }, spec: {} } as AnyDoc);
    await this.d.hooks.purge.for(ref.kind).promise({ ...base, doc: bare, status: { ...(bare.status ?? {}) } });
  }

  /** Used by the host's own cell-step taps. */
  stopCellContext(ctx: CellContext): Promise<void> {
    return this.stopContext(ctx);
  }
}
