// The hooks a plugin taps, and the one context object each of them receives.
// They are tapable hooks underneath; these interfaces type what a plugin may do with them (tap, never call).

import type { KukeonError } from './errors';
import type { OciSpec } from './oci';
import type { ScopedRef } from './scoped-kinds';
import type {
  AnyDoc,
  CellDoc,
  CellStatus,
  ContainerDoc,
  ContainerStatus,
  Doc,
  Kind,
  Phase,
  RealmDoc,
  Ref,
  SpaceDoc,
  StackDoc,
  StatusOf,
} from './resources';

/** A tap's name, and where it runs: lower `stage` first (default 0); `before` names taps it must precede. */
export interface TapSpec {
  name: string;
  stage?: number;
  before?: string | string[];
}

/** Returned by a create or start tap: how to take back what it did if a later step of the same operation fails. */
export type Undo = () => Promise<void> | void;

/** A series hook with side effects; create and start taps may return an Undo. */
export interface PhaseHook<C> {
  tapPromise(tap: string | TapSpec, fn: (ctx: C) => Promise<Undo | void>): void;
  isUsed(): boolean;
}

/** A series hook whose first non-undefined result wins (validation). */
export interface BailHook<C, R> {
  tapPromise(tap: string | TapSpec, fn: (ctx: C) => Promise<R | undefined>): void;
  isUsed(): boolean;
}

/** A series hook where each tap receives the previous tap's value and returns the next one. */
export interface WaterfallHook<V, C> {
  tapPromise(tap: string | TapSpec, fn: (value: V, ctx: C) => Promise<V>): void;
  /** Runs the taps in order. Plugins call only the hooks that are theirs to run (the runtime runs ociSpec). */
  promise(value: V, ctx: C): Promise<V>;
  isUsed(): boolean;
}

/** Saved documents of a resource's parents, loaded at the start of every phase. */
export interface Parents {
  realm?: RealmDoc;
  space?: SpaceDoc;
  stack?: StackDoc;
  cell?: CellDoc;
}

/** How a stop ends the processes: `kill` is `{ signal: 'SIGKILL', timeoutMs: 0 }`. */
export interface StopOptions {
  signal: NodeJS.Signals;
  timeoutMs: number;
}

/**
 * The operation a context belongs to: one per controller call (apply, delete, start, ...), shared by every context
 * of that call, copies included. The host keeps the operation's undo stack and locks behind it.
 */
export interface OperationScope {
  /** Names the operation (and the locks it holds) in logs and errors. */
  readonly id: string;
  /** Aborted when the caller gives up on the operation (a daemon client that went away); the same as `ctx.signal`. */
  readonly signal: AbortSignal;
}

interface BaseContext<K extends Kind> {
  readonly phase: Phase;
  readonly ref: Ref & { kind: K };
  /** The resource as stored when the phase began (desired spec plus the status saved by earlier runs). */
  readonly doc: Doc<K>;
  readonly parents: Parents;
  /** `--force`: delete and purge go on past backend errors. */
  readonly force: boolean;
  /** The operation's signal: pass it to long backend calls; the host stops between taps once it is aborted. */
  readonly signal: AbortSignal;
  readonly scope: OperationScope;
}

/** Context of Realm, Space and Stack phases. Taps set their own fields on `status`; the host persists them. */
export interface ResourceContext<K extends 'Realm' | 'Space' | 'Stack'> extends BaseContext<K> {
  readonly status: StatusOf[K];
}

/** A cell's status while a phase runs: the cell's own fields plus each container's, by container id. */
export interface CellWorkingStatus extends CellStatus {
  containers: Record<string, ContainerStatus>;
}

export interface CellContext extends BaseContext<'Cell'> {
  /** The cell's containers (its own documents), root included when the root is a declared container. */
  readonly containers: readonly ContainerDoc[];
  /** Id of the declared root container, or undefined when kukeon synthesizes the root. */
  readonly rootId: string | undefined;
  readonly status: CellWorkingStatus;
  /** Set on stop (and on the stop that precedes delete and purge). */
  readonly stop?: StopOptions;
}

/**
 * Context of Container-kind hooks, called inside the cell's `startWorkloads` and `stopWorkloads` steps (and on
 * delete). In `stopWorkloads` the stops of a cell's workloads run at the same time: a tap writes its own
 * container's `status`, never another's, and treats the shared `cell` as read-only.
 */
export interface ContainerContext extends BaseContext<'Container'> {
  readonly cell: CellContext;
  /** The same object as `cell.status.containers[id]`. */
  readonly status: ContainerStatus;
  readonly stop?: StopOptions;
}

export interface ContextOf {
  Realm: ResourceContext<'Realm'>;
  Space: ResourceContext<'Space'>;
  Stack: ResourceContext<'Stack'>;
  Cell: CellContext;
  Container: ContainerContext;
}

/** `ociSpec` context: one call per container, the synthesized root included, at every start. */
export interface OciSpecContext {
  readonly cell: CellContext;
  readonly role: 'root' | 'workload';
  /** Undefined for a synthesized root. */
  readonly container: ContainerDoc | undefined;
  readonly containerdId: string;
  /** The root's pid, for workloads joining its namespaces. */
  readonly rootPid: number | undefined;
}

export interface ValidateContext {
  readonly doc: AnyDoc;
  /**
   * Index of the document in its input. A parent that apply makes up (a realm, space or stack the input and
   * the store lack) is validated too, with the index of the document that implied it.
   */
  readonly index: number;
  readonly ref: Ref;
}

export interface PlanItem {
  /** A Volume's or a Secret's (the scoped kinds) is a ScopedRef. */
  ref: Ref | ScopedRef;
  /** Who would make the change: `kukeon` for the controller's own decisions, else a plugin name. */
  by: string;
  action: 'create' | 'update' | 'unchanged' | 'delete' | 'start' | 'stop' | 'write' | 'remove' | 'note';
  detail?: string;
}

export interface PlanContext {
  /** The validated documents of the input, in apply order, implicit parents included. */
  readonly docs: readonly AnyDoc[];
  /** For each document (by index in `docs`), what is stored now, if anything. */
  readonly current: readonly (AnyDoc | undefined)[];
}

/** The context of `status.for(kind)`: for a Cell, `doc` is the CellDoc with its containers. */
export interface StatusContext<K extends Kind = Kind> {
  readonly ref: Ref & { kind: K };
  readonly doc: Doc<K>;
  readonly parents: Parents;
  /**
   * `get` only shows the result: taps must have no side effects. `refresh` saves it: taps may also repair what
   * drifted outside kukeon (a deleted generated file, for example). Unset means `get`.
   */
  readonly purpose?: 'get' | 'refresh';
}

export type AnyStatus = StatusOf[Kind] | CellWorkingStatus;

/** What the status waterfall of each kind carries: a cell's status carries its containers' too. */
export interface LiveStatusOf {
  Realm: StatusOf['Realm'];
  Space: StatusOf['Space'];
  Stack: StatusOf['Stack'];
  Cell: CellWorkingStatus;
  Container: ContainerStatus;
}

/** A kind-keyed map of status waterfalls, as tapable's HookMap: `hooks.status.for('Cell')`. */
export interface StatusHookMap {
  for<K extends Kind>(kind: K): WaterfallHook<LiveStatusOf[K], StatusContext<K>>;
}

export type PhaseHooks<Kinds extends Kind> = { readonly [K in Kinds]: PhaseHook<ContextOf[K]> };

/** A kind-keyed map of phase hooks, as tapable's HookMap: `hooks.create.for('Cell')`. */
export interface PhaseHookMap<Kinds extends Kind> {
  for<K extends Kinds>(kind: K): PhaseHook<ContextOf[K]>;
}

export const CELL_START_STEPS = ['prepare', 'startRoot', 'attachNetwork', 'startWorkloads', 'verify'] as const;
export const CELL_STOP_STEPS = ['stopWorkloads', 'detachNetwork', 'stopRoot', 'release'] as const;
export type CellStartStep = (typeof CELL_START_STEPS)[number];
export type CellStopStep = (typeof CELL_STOP_STEPS)[number];
export type CellStep = CellStartStep | CellStopStep;

/** The host's hooks: one frozen object per host. */
export interface Hooks {
  /** Bail: the first tap that returns an error refuses the document. Runs after kukeon's own schema checks. */
  readonly validate: BailHook<ValidateContext, KukeonError>;
  /** Waterfall: each plugin adds what it would change; `apply --dry-run` prints the result. */
  readonly plan: WaterfallHook<PlanItem[], PlanContext>;
  /**
   * Waterfalls by kind: live status from the backends, starting from the saved one. `get` shows it; `refresh`
   * saves it. A cell's containers come inside the cell's status (`status.for('Cell')`); `status.for('Container')`
   * runs when containers are listed on their own.
   */
  readonly status: StatusHookMap;
  readonly create: PhaseHookMap<Kind>;
  /** Start and stop of a Cell run the cell steps below; Container hooks run inside startWorkloads and stopWorkloads. */
  readonly start: PhaseHookMap<'Cell' | 'Container'>;
  readonly stop: PhaseHookMap<'Cell' | 'Container'>;
  /**
   * A running container whose apply changed only its `resources`: taps apply the new limits to the live container
   * (the runtime updates its task in place, as `docker update` does). Any other change recreates the container.
   */
  readonly update: PhaseHookMap<'Container'>;
  readonly delete: PhaseHookMap<Kind>;
  /** Purge: after delete, sweep residual state; taps must succeed when there is nothing left. */
  readonly purge: PhaseHookMap<Kind>;
  /** The cell's start and stop, in order: prepare, startRoot, attachNetwork, startWorkloads, verify; stopWorkloads, detachNetwork, stopRoot, release. */
  readonly cell: { readonly [S in CellStep]: PhaseHook<CellContext> };
  /**
   * Async waterfall over each container's OCI spec. Ownership: the runtime sets process, mounts, namespaces and
   * security (stage -100); cgroups sets cgroupsPath and resources (stage 0); add-ons tap after them.
   */
  readonly ociSpec: WaterfallHook<OciSpec, OciSpecContext>;
}
