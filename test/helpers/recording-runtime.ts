// biome-ignore-all lint/suspicious/noExplicitAny: Plugin<any> is "a plugin of any config type" (its config is contravariant in apply)
import { CELL_START_STEPS, CELL_STOP_STEPS } from '../../sdk';
import type { CellStep, Plugin } from '../../sdk';
import { fakePlugin } from './hosts';

export interface Recorder {
  events: string[];
  /** The same events per cell name (apply runs sibling cells in parallel, so `events` interleaves them). */
  byCell?: Record<string, string[]>;
  /** Makes a step throw once. */
  failAt?: CellStep;
  /** What the failing step throws (default: an Error "<step> broke"). */
  failWith?: Error;
  /** Makes an undo throw. */
  failUndo?: CellStep;
  seen: Record<string, unknown>[];
}

/**
 * A stand-in runtime for host tests: it records every step and container hook, returns an undo from each start
 * step, and sets status the way a runtime does (root pid, container pids and states).
 */
export function recordingRuntime(rec: Recorder): Plugin<any> {
  const push = (cell: string, event: string) => {
    rec.events.push(event);
    rec.byCell ??= {};
    (rec.byCell[cell] ??= []).push(event);
  };
  return fakePlugin('recorder', 'runtime', (host) => {
    for (const step of [...CELL_START_STEPS, ...CELL_STOP_STEPS]) {
      host.hooks.cell[step].tapPromise('recorder', async (ctx) => {
        push(ctx.ref.path[3], step);
        rec.seen.push({ step, rootPid: ctx.status.root?.pid, stop: ctx.stop, space: ctx.parents.space?.metadata.name });
        if (rec.failAt === step) {
          rec.failAt = undefined;
          throw rec.failWith ?? new Error(`${step} broke`);
        }
        if (step === 'startRoot') ctx.status.root = { pid: 4242, containerdId: 'blog_wp_web_root', synthesized: true };
        if (step === 'stopRoot') ctx.status.root = { ...ctx.status.root, pid: undefined };
        if ((CELL_START_STEPS as readonly string[]).includes(step)) {
          return async () => {
            push(ctx.ref.path[3], `undo:${step}`);
            if (rec.failUndo === step) throw new Error(`undo of ${step} broke`);
          };
        }
      });
    }
    host.hooks.start.for('Container').tapPromise('recorder', async (ctx) => {
      push(ctx.cell.ref.path[3], `start:${ctx.doc.metadata.name}`);
      Object.assign(ctx.status, { state: 'Ready', pid: 5000 + rec.events.length });
    });
    host.hooks.stop.for('Container').tapPromise('recorder', async (ctx) => {
      push(ctx.cell.ref.path[3], `stop:${ctx.doc.metadata.name}:${ctx.stop?.signal}:${ctx.stop?.timeoutMs}`);
      Object.assign(ctx.status, { state: 'Stopped', pid: undefined, exitCode: 0 });
    });
    host.hooks.create
      .for('Container')
      .tapPromise('recorder', async (ctx) => void push(ctx.cell.ref.path[3], `create:${ctx.doc.metadata.name}`));
    host.hooks.delete
      .for('Container')
      .tapPromise('recorder', async (ctx) => void push(ctx.cell.ref.path[3], `delete:${ctx.doc.metadata.name}`));
  });
}
