// One controller operation (an apply, a delete, a start, ...): its abort signal, the locks it holds, and the undo
// stack of each create or start it runs. Every context of the operation carries it as `ctx.scope`, a plain
// property, so a `{ ...ctx }` copy keeps it and the hook interceptor finds a tap's Undo from any copy.

import { KukeonError } from '../../sdk';
import type { OperationScope, Ref, Undo } from '../../sdk';

let nextId = 1;

/** Undos returned by create and start taps, run in reverse when a later step of the same create or start fails. */
export class UndoStack {
  private readonly entries: { label: string; undo: Undo }[] = [];

  push(label: string, undo: Undo): void {
    this.entries.push({ label, undo });
  }

  get size(): number {
    return this.entries.length;
  }

  /** Runs every undo, last first; an undo that throws is reported and the rest still run. */
  async unwind(): Promise<string[]> {
    const failures: string[] = [];
    while (this.entries.length) {
      const { label, undo } = this.entries.pop()!;
      try {
        await undo();
      } catch (err) {
        failures.push(`undo ${label} failed: ${(err as Error).message}`);
      }
    }
    return failures;
  }
}

export class HostOperationScope implements OperationScope {
  readonly undo = new UndoStack();

  private constructor(
    readonly id: string,
    readonly signal: AbortSignal,
    /** Names of the locks the operation holds, shared with its children: the operation is the lock's holder. */
    private readonly held: Set<string>,
    /** The store revision that committed each resource the operation wrote (by ref path), shared with its children. */
    private readonly commits: Map<string, number>,
  ) {}

  /** A new operation; `signal` is the caller's (a daemon aborts it when the client goes away). */
  static start(signal: AbortSignal = new AbortController().signal): HostOperationScope {
    return new HostOperationScope(`op-${process.pid}-${nextId++}`, signal, new Set(), new Map());
  }

  /**
   * Notes that the operation wrote `ref`'s record (or removed it) at store revision `revision`, while it held the
   * resource's lock: the latest one is the resource's commit order, reported with the operation's result.
   */
  committed(ref: Ref, revision: number | void): void {
    if (typeof revision !== 'number') return; // a store that does not number its writes
    const key = `${ref.kind}/${ref.path.join('/')}`;
    this.commits.set(key, Math.max(this.commits.get(key) ?? 0, revision));
  }

  /** The store revision of the operation's last write of `ref`, if it wrote it. */
  commitOf(ref: Ref): number | undefined {
    return this.commits.get(`${ref.kind}/${ref.path.join('/')}`);
  }

  /**
   * The same operation with its own undo stack, for one resource's create or start: a failure unwinds what that
   * resource did, never what its siblings (applied in parallel under the same operation) did.
   */
  child(): HostOperationScope {
    return new HostOperationScope(this.id, this.signal, this.held, this.commits);
  }

  holds(lock: string): boolean {
    return this.held.has(lock);
  }

  /** Runs `fn` with `lock` recorded as held by this operation (the caller takes the lock itself). */
  async holding<T>(lock: string, fn: () => Promise<T>): Promise<T> {
    this.held.add(lock);
    try {
      return await fn();
    } finally {
      this.held.delete(lock);
    }
  }

  /** Throws KUKEON_E_CANCELLED when the caller aborted the operation; the lifecycle then unwinds and records Failed. */
  throwIfAborted(): void {
    if (!this.signal.aborted) return;
    const reason = this.signal.reason;
    const why = reason instanceof Error ? reason.message : reason === undefined ? '' : String(reason);
    throw new KukeonError('KUKEON_E_CANCELLED', `operation ${this.id} aborted${why ? `: ${why}` : ''}`, {}, { cause: reason });
  }
}

/** The host scope a context carries, if any (validate, plan and status contexts have none). */
export function scopeOf(ctx: unknown): HostOperationScope | undefined {
  const scope = ctx !== null && typeof ctx === 'object' ? (ctx as { scope?: unknown }).scope : undefined;
  return scope instanceof HostOperationScope ? scope : undefined;
}
