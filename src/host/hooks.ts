// The host's hooks: one frozen object of tapable hooks, typed for plugins by kukeon/sdk's Hooks.
// An interceptor wraps every tap once, at registration: it names the owner plugin, skips taps of plugins
// that failed to apply, traces timings under DEBUG=kukeon:hooks, stops before a tap once the operation is aborted,
// pushes the Undo a tap returns onto the undo stack of the context's operation scope (`ctx.scope`), and passes
// failpoints `tap.<hook>.<tap name>` before the tap and `...done` after it, so a test can crash any step.

import createDebug from 'debug';
import { AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, HookMap } from 'tapable';
import { CELL_START_STEPS, CELL_STOP_STEPS, KINDS, KukeonError, failpoint } from '../../sdk';
import type { CellStep, Hooks, Kind, Undo } from '../../sdk';
import { scopeOf } from './operation-scope';

const trace = createDebug('kukeon:hooks');

type Shape = 'series' | 'bail' | 'waterfall';
type AnyHook = AsyncSeriesHook<[unknown]> | AsyncSeriesBailHook<[unknown], unknown> | AsyncSeriesWaterfallHook<[unknown, unknown]>;

/** Who is registering taps right now, and whether a given owner's taps may run. */
export interface TapOwnership {
  current(): string;
  isActive(owner: string): boolean;
}

/** The concrete hooks the host calls; plugins see the same objects typed as the SDK's Hooks. */
export interface HostHooks {
  validate: AsyncSeriesBailHook<[unknown], unknown>;
  plan: AsyncSeriesWaterfallHook<[unknown, unknown]>;
  status: HookMap<AsyncSeriesWaterfallHook<[unknown, unknown]>>;
  create: HookMap<AsyncSeriesHook<[unknown]>>;
  start: HookMap<AsyncSeriesHook<[unknown]>>;
  stop: HookMap<AsyncSeriesHook<[unknown]>>;
  update: HookMap<AsyncSeriesHook<[unknown]>>;
  delete: HookMap<AsyncSeriesHook<[unknown]>>;
  purge: HookMap<AsyncSeriesHook<[unknown]>>;
  cell: Record<CellStep, AsyncSeriesHook<[unknown]>>;
  ociSpec: AsyncSeriesWaterfallHook<[unknown, unknown]>;
}

function intercept(hook: AnyHook, hookName: string, shape: Shape, ownership: TapOwnership): void {
  hook.intercept({
    register(tap) {
      if (tap.type !== 'promise') {
        throw new KukeonError('KUKEON_E_PLUGIN_META', `tap "${tap.name}" on hook ${hookName} must use tapPromise`, {
          plugin: ownership.current(),
        });
      }
      const owner = ownership.current();
      const fn = tap.fn as (...args: unknown[]) => Promise<unknown>;
      const point = `tap.${hookName}.${tap.name}`;
      tap.fn = async (...args: unknown[]) => {
        if (!ownership.isActive(owner)) return shape === 'waterfall' ? args[0] : undefined;
        const scope = scopeOf(shape === 'waterfall' ? args[1] : args[0]);
        scope?.throwIfAborted();
        const started = process.hrtime.bigint();
        try {
          failpoint(point);
          const result = await fn(...args);
          failpoint(`${point}.done`);
          if (shape === 'series' && typeof result === 'function') {
            scope?.undo.push(`${owner}:${tap.name}@${hookName}`, result as Undo);
          }
          return shape === 'series' ? undefined : result;
        } catch (err) {
          trace('%s tap %s (%s) failed: %s', hookName, tap.name, owner, (err as Error).message);
          throw err;
        } finally {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          trace('%s tap %s (%s) %sms', hookName, tap.name, owner, ms.toFixed(2));
        }
      };
      return tap;
    },
  });
}

function phaseMap(phase: string, ownership: TapOwnership, kinds: readonly Kind[]): HookMap<AsyncSeriesHook<[unknown]>> {
  return new HookMap((kind: Kind) => {
    if (!kinds.includes(kind)) throw new KukeonError('KUKEON_E_INTERNAL', `no ${phase} hook for kind ${kind}`);
    const hook = new AsyncSeriesHook<[unknown]>(['ctx'], `${phase}.${kind}`);
    intercept(hook, `${phase}.${kind}`, 'series', ownership);
    return hook;
  }, phase);
}

function statusMap(ownership: TapOwnership): HookMap<AsyncSeriesWaterfallHook<[unknown, unknown]>> {
  return new HookMap((kind: Kind) => {
    if (!KINDS.includes(kind)) throw new KukeonError('KUKEON_E_INTERNAL', `no status hook for kind ${kind}`);
    const hook = new AsyncSeriesWaterfallHook<[unknown, unknown]>(['value', 'ctx'], `status.${kind}`);
    intercept(hook, `status.${kind}`, 'waterfall', ownership);
    return hook;
  }, 'status');
}

export function createHooks(ownership: TapOwnership): { host: HostHooks; sdk: Hooks } {
  const series = (name: string) => {
    const h = new AsyncSeriesHook<[unknown]>(['ctx'], name);
    intercept(h, name, 'series', ownership);
    return h;
  };
  const waterfall = (name: string) => {
    const h = new AsyncSeriesWaterfallHook<[unknown, unknown]>(['value', 'ctx'], name);
    intercept(h, name, 'waterfall', ownership);
    return h;
  };
  const validate = new AsyncSeriesBailHook<[unknown], unknown>(['ctx'], 'validate');
  intercept(validate, 'validate', 'bail', ownership);

  const cell = {} as Record<CellStep, AsyncSeriesHook<[unknown]>>;
  for (const step of [...CELL_START_STEPS, ...CELL_STOP_STEPS]) cell[step] = series(`cell.${step}`);

  const runnable: readonly Kind[] = ['Cell', 'Container'];
  const host: HostHooks = Object.freeze({
    validate,
    plan: waterfall('plan'),
    status: statusMap(ownership),
    create: phaseMap('create', ownership, KINDS),
    start: phaseMap('start', ownership, runnable),
    stop: phaseMap('stop', ownership, runnable),
    update: phaseMap('update', ownership, ['Container']),
    delete: phaseMap('delete', ownership, KINDS),
    purge: phaseMap('purge', ownership, KINDS),
    cell: Object.freeze(cell),
    ociSpec: waterfall('ociSpec'),
  });
  // The SDK's Hooks types the same objects for tapping; tapable's own typings cannot express an Undo return.
  return { host, sdk: host as unknown as Hooks };
}
