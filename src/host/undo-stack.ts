// Undos returned by create and start taps, run in reverse when a later step of the same operation fails.
// A stack is bound to the operation's context objects, so the hook interceptor finds it from a tap's argument.

import type { Undo } from '../../sdk';

const scopes = new WeakMap<object, UndoStack>();

export class UndoStack {
  private readonly entries: { label: string; undo: Undo }[] = [];

  push(label: string, undo: Undo): void {
    this.entries.push({ label, undo });
  }

  get size(): number {
    return this.entries.length;
  }

  /** Binds a context object (a phase's ctx, or a container ctx inside it) to this stack. */
  bind(ctx: object): void {
    scopes.set(ctx, this);
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

export function undoScopeOf(ctx: unknown): UndoStack | undefined {
  return ctx !== null && typeof ctx === 'object' ? scopes.get(ctx) : undefined;
}
