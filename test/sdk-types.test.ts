// biome-ignore-all lint/suspicious/noExplicitAny: Plugin<any> is "a plugin of any config type" (its config is contravariant in apply)
// The public SDK surface as a tested surface. This file does not compile (and so `npm test`, which runs tsc
// first, fails) when a public type of kukeon/sdk changes shape: a member added, removed, renamed, retyped, made
// optional or readonly. A deliberate change to the plugin contract updates the expectation here in the same
// change, which makes it visible in review; an accidental one stops here.
//
// The plugin contract (Plugin, PluginHost and what it holds, the hooks and their contexts, the OCI spec the ociSpec
// hook carries, every service type, config schemas, the error codes, the document and ref shapes, the SDK's
// functions, and the kit's options, case names and report) is pinned exactly. Status and spec types grow with
// each slot's issue, so for them every field that exists is pinned (a removal or a retype fails) and new
// optional fields may be added.
//
// The runtime tests below pin the value exports of kukeon/sdk and kukeon/sdk/testkit, and type-check the
// out-of-tree example (plain JavaScript with JSDoc types) against the SDK.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type {
  AnyDoc,
  AnyStatus,
  ApiListenOptions,
  ApiService,
  ApplyReport,
  ApplyRequest,
  CallOptions,
  ControllerApi,
  DescribeRequest,
  DescribeResult,
  ResourceEvent,
  CellContainerStatus,
  GetRequest,
  ProgressEvent,
  PullPolicy,
  WatchEvent,
  ExitEvent,
  AtomicWriteOptions,
  BailHook,
  CellContext,
  CellDoc,
  CellNetworkStatus,
  CellRootStatus,
  CellSpec,
  CellStartStep,
  CellStatus,
  CellStep,
  CellStopStep,
  CellWorkingStatus,
  CgroupStats,
  ConfigProperty,
  ConfigSchema,
  ContainerContext,
  ContainerDoc,
  ContainerPort,
  ContainerReason,
  RestartPolicy,
  RESTART_POLICIES,
  ContainerSpec,
  VolumeMount,
  ScopedRef,
  ScopedKind,
  ContainerStatus,
  ContextOf,
  Diagnosis,
  DiagnoseService,
  Doc,
  DocOf,
  ErrorCode,
  Hooks,
  HostPaths,
  ImagePullOptions,
  ImagePullResult,
  ImageService,
  ImageSummary,
  Kind,
  KukeonErrorDetails,
  LiveStatusOf,
  LockOptions,
  Locks,
  LogService,
  Metadata,
  NormalizedResources,
  OciLinuxResources,
  OciMount,
  OciNamespace,
  OciProcess,
  OciSpec,
  OciSpecContext,
  OperationScope,
  Parents,
  Phase,
  PhaseHook,
  PhaseHookMap,
  PlanContext,
  PlanItem,
  Plugin,
  PluginHost,
  PluginState,
  PluginStatus,
  RealmDoc,
  RealmSpec,
  RealmStatus,
  Ref,
  RegistryCredentialSpec,
  ResourceContext,
  Resources,
  ServiceMap,
  ServiceName,
  ServiceRegistry,
  Size,
  Slot,
  SpaceNetworkSpec,
  SpaceNetworkStatus,
  SpaceSpec,
  SpaceStatus,
  StackSpec,
  StackStatus,
  State,
  StateReader,
  StatusContext,
  StatusHookMap,
  StatusOf,
  StopOptions,
  StoreService,
  TapSpec,
  Undo,
  ValidateContext,
  WaitResult,
  WaitService,
  WaterfallHook,
} from '../sdk';
import {
  type CELL_START_STEPS,
  type CELL_STOP_STEPS,
  type KINDS,
  type KukeonError,
  type PHASES,
  type PluginSkip,
  type SLOTS,
  definePlugin,
} from '../sdk';
// Functions pinned by their signatures only (`typeof`): a type-only import loads nothing.
import type {
  STATES,
  childKind,
  cleanStrayTemps,
  ensureDirDurable,
  fsyncDir,
  tempPathFor,
  writeFileAtomic,
  writeFileAtomicSync,
  failpoint,
  formatRef,
  isKukeonError,
  isPluginSkip,
  kindDepth,
  normalizeResources,
  parentRef,
  refOf,
  rootContainerId,
  toKukeonError,
} from '../sdk';
import type {
  CellCase,
  CellConformanceOptions,
  CellDriver,
  ConformanceCase,
  ConformanceReport,
  KukeResult,
  StoreCase,
  StoreConformanceOptions,
  TestFn,
} from '../sdk/testkit';
import type {
  ProbeEvent,
  assertConformance,
  cgroupsConformanceTests,
  conformanceTests,
  formatReport,
  networkConformanceTests,
  runCgroupsConformance,
  runNetworkConformance,
  runRuntimeConformance,
  runStoreConformance,
  runtimeConformanceTests,
  storeConformanceTests,
} from '../sdk/testkit';

// ---------------------------------------------------------------------------------------------------------------
// Helpers: Equal is true only for identical types (modifiers included); Expect fails to compile on false.

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
/** One object type from an intersection or a mapped type, modifiers kept (Equal tells `A & B` from its flat form). */
type Flat<T> = { [K in keyof T]: T[K] };
/** `T` has at least these members, with exactly these types and modifiers. */
type Has<T, Shape> = Equal<Flat<Pick<T, keyof Shape & keyof T>>, Flat<Shape>>;

// The helpers themselves catch what they must (each line below is an error that tsc must report).
// @ts-expect-error an added member
type _neg1 = Expect<Equal<{ a: string }, { a: string; b?: number }>>;
// @ts-expect-error optional vs required
type _neg2 = Expect<Equal<{ a: string }, { a?: string }>>;
// @ts-expect-error readonly vs mutable
type _neg3 = Expect<Equal<{ readonly a: string }, { a: string }>>;
// @ts-expect-error a widened member type
type _neg4 = Expect<Equal<{ a: 'x' }, { a: string }>>;
// @ts-expect-error a pinned member removed
type _neg5 = Expect<Has<{ a: string }, { a: string; b: number }>>;
// @ts-expect-error a pinned member retyped
type _neg6 = Expect<Has<{ a: string; c: 1 }, { a: number }>>;

// ---------------------------------------------------------------------------------------------------------------
// The plugin contract

type _Slot = Expect<Equal<Slot, 'store' | 'runtime' | 'network' | 'cgroups' | 'api' | 'cri'>>;
type _Kind = Expect<Equal<Kind, 'Realm' | 'Space' | 'Stack' | 'Cell' | 'Container'>>;
type _Phase = Expect<Equal<Phase, 'create' | 'start' | 'stop' | 'update' | 'delete' | 'purge'>>;
type _PluginState = Expect<Equal<PluginState, 'ok' | 'skip' | 'error'>>;
type _Kinds = Expect<Equal<typeof KINDS, readonly ['Realm', 'Space', 'Stack', 'Cell', 'Container']>>;
type _Slots = Expect<Equal<typeof SLOTS, readonly ['store', 'runtime', 'network', 'cgroups', 'api', 'cri']>>;
type _Phases = Expect<Equal<typeof PHASES, readonly ['create', 'start', 'stop', 'update', 'delete', 'purge']>>;
type _StartSteps = Expect<Equal<typeof CELL_START_STEPS, readonly ['prepare', 'startRoot', 'attachNetwork', 'startWorkloads', 'verify']>>;
type _StopSteps = Expect<Equal<typeof CELL_STOP_STEPS, readonly ['stopWorkloads', 'detachNetwork', 'stopRoot', 'release']>>;
type _CellStep = Expect<Equal<CellStep, CellStartStep | CellStopStep>>;

type _Plugin = Expect<
  Equal<
    Plugin<{ socket: string }>,
    {
      name: string;
      version: string;
      slot?: Slot;
      requires?: Slot[];
      configSchema?: ConfigSchema;
      apply(host: PluginHost, config: { socket: string }): void | Promise<void>;
    }
  >
>;
type _PluginDefault = Expect<Equal<Parameters<Plugin['apply']>[1], Record<string, unknown>>>;
type _definePlugin = Expect<Equal<typeof definePlugin, <Config = Record<string, unknown>>(plugin: Plugin<Config>) => Plugin<Config>>>;
type _ConfigSchema = Expect<Equal<keyof ConfigSchema, 'type' | 'properties' | 'required' | 'additionalProperties'>>;
type _PluginStatus = Expect<
  Equal<
    PluginStatus,
    { name: string; version: string; slot?: Slot; state: PluginState; reason?: string; applyMs?: number; source?: string }
  >
>;

type _PluginHost = Expect<
  Equal<
    PluginHost,
    {
      readonly hooks: Hooks;
      readonly services: ServiceRegistry;
      readonly state: StateReader;
      readonly locks: Locks;
      readonly paths: HostPaths;
      readonly log: (format: string, ...args: unknown[]) => void;
      readonly version: string;
      readonly daemon: boolean;
      onClose(fn: () => void | Promise<void>): void;
    }
  >
>;
type _HostPaths = Expect<Equal<HostPaths, { runPath: string; runtimeDir: string }>>;
type _Locks = Expect<Equal<Locks, { with<T>(name: string, fn: () => Promise<T>, options?: LockOptions): Promise<T> }>>;
type _LockOptions = Expect<Equal<LockOptions, { timeoutMs?: number }>>;
type _ServiceRegistry = Expect<
  Equal<
    ServiceRegistry,
    {
      provide<N extends ServiceName>(name: N, service: ServiceMap[N]): void;
      get<N extends ServiceName>(name: N): ServiceMap[N] | undefined;
      names(): ServiceName[];
    }
  >
>;
type _StateReader = Expect<
  Equal<
    StateReader,
    {
      get<K extends Kind>(ref: Ref & { kind: K }): Promise<Doc<K> | undefined>;
      list<K extends Kind>(kind: K, parent: readonly string[]): Promise<Doc<K>[]>;
      parents(ref: Ref): Promise<Parents>;
      location(ref: Ref): string | undefined;
    }
  >
>;

// Services: the names, and the store contract exactly.
type _TaskService = Expect<
  Equal<
    ServiceMap['runtime.tasks'],
    {
      get(
        cellPath: readonly string[],
        container: string,
      ): Promise<{ status: 'running' | 'stopped' | 'other'; pid?: number; exitCode?: number; exitedAt?: string } | undefined>;
      list(realm: string): Promise<{ containerdId: string; running: boolean; pid?: number; exitCode?: number }[]>;
      inventory(): Promise<
        { namespace: string; id: string; status?: string; pid?: number; cellPath?: string[]; container?: string; role?: string }[]
      >;
    }
  >
>;
type _ServiceName = Expect<
  Equal<
    ServiceName,
    | 'store'
    | 'store.diagnose'
    | 'runtime.images'
    | 'runtime.logs'
    | 'runtime.wait'
    | 'runtime.events'
    | 'runtime.tasks'
    | 'runtime.exec'
    | 'runtime.console'
    | 'runtime.diagnose'
    | 'network.diagnose'
    | 'cgroups.diagnose'
    | 'cgroups.oom'
    | 'api'
    | 'cri'
  >
>;
type _StoreInMap = Expect<Equal<ServiceMap['store'], StoreService>>;
type _ExitEventService = Expect<
  Equal<ServiceMap['runtime.events'], { subscribe(fn: (e: ExitEvent) => void, onSubscribed?: () => void): () => void }>
>;
type _ExitEvent = Expect<Equal<ExitEvent, { cellPath: string[]; container: string; exitCode: number; time: string }>>;
type _DiagnoseInMap = Expect<
  Equal<ServiceMap['store.diagnose' | 'runtime.diagnose' | 'network.diagnose' | 'cgroups.diagnose'], DiagnoseService>
>;
type _StoreService = Expect<
  Equal<
    StoreService,
    {
      get<K extends Kind>(ref: Ref & { kind: K }): Promise<Doc<K> | undefined>;
      list<K extends Kind>(kind: K, parent: readonly string[]): Promise<Doc<K>[]>;
      put(doc: AnyDoc): Promise<number | void>;
      update<K extends Kind>(ref: Ref & { kind: K }, fn: (current: Doc<K> | undefined) => Doc<K> | undefined): Promise<Doc<K> | undefined>;
      remove(ref: Ref, options?: { childless?: boolean }): Promise<number | void>;
      location?(ref: Ref): string | undefined;
    }
  >
>;
type _DiagnoseService = Expect<Equal<DiagnoseService, { diagnose(): Promise<Diagnosis[]> }>>;
type _Diagnosis = Expect<Equal<Diagnosis, { check: string; status: 'ok' | 'warn' | 'error'; detail: string; remedy?: string }>>;

// Hooks: every hook, its kind and its context.
type _Hooks = Expect<
  Equal<
    Hooks,
    {
      readonly validate: BailHook<ValidateContext, KukeonError>;
      readonly plan: WaterfallHook<PlanItem[], PlanContext>;
      readonly status: StatusHookMap;
      readonly create: PhaseHookMap<Kind>;
      readonly start: PhaseHookMap<'Cell' | 'Container'>;
      readonly stop: PhaseHookMap<'Cell' | 'Container'>;
      readonly update: PhaseHookMap<'Container'>;
      readonly delete: PhaseHookMap<Kind>;
      readonly purge: PhaseHookMap<Kind>;
      readonly cell: { readonly [S in CellStep]: PhaseHook<CellContext> };
      readonly ociSpec: WaterfallHook<OciSpec, OciSpecContext>;
    }
  >
>;
type _TapSpec = Expect<Equal<TapSpec, { name: string; stage?: number; before?: string | string[] }>>;
type _Undo = Expect<Equal<Undo, () => Promise<void> | void>>;
type _PhaseHook = Expect<
  Equal<
    PhaseHook<CellContext>,
    { tapPromise(tap: string | TapSpec, fn: (ctx: CellContext) => Promise<Undo | void>): void; isUsed(): boolean }
  >
>;
type _BailHook = Expect<
  Equal<
    BailHook<ValidateContext, KukeonError>,
    { tapPromise(tap: string | TapSpec, fn: (ctx: ValidateContext) => Promise<KukeonError | undefined>): void; isUsed(): boolean }
  >
>;
type _WaterfallHook = Expect<
  Equal<
    WaterfallHook<OciSpec, OciSpecContext>,
    {
      tapPromise(tap: string | TapSpec, fn: (value: OciSpec, ctx: OciSpecContext) => Promise<OciSpec>): void;
      promise(value: OciSpec, ctx: OciSpecContext): Promise<OciSpec>;
      isUsed(): boolean;
    }
  >
>;
type _PhaseHookMap = Expect<
  Equal<PhaseHookMap<'Cell' | 'Container'>, { for<K extends 'Cell' | 'Container'>(kind: K): PhaseHook<ContextOf[K]> }>
>;
type _ContextOf = Expect<
  Equal<
    ContextOf,
    {
      Realm: ResourceContext<'Realm'>;
      Space: ResourceContext<'Space'>;
      Stack: ResourceContext<'Stack'>;
      Cell: CellContext;
      Container: ContainerContext;
    }
  >
>;

// Contexts: what a tap may read, and the one thing it writes (`status`).
type Base<K extends Kind> = {
  readonly phase: Phase;
  readonly ref: Ref & { kind: K };
  readonly doc: Doc<K>;
  readonly parents: Parents;
  readonly force: boolean;
  readonly signal: AbortSignal;
  readonly scope: OperationScope;
};
type _OperationScope = Expect<Equal<OperationScope, { readonly id: string; readonly signal: AbortSignal }>>;
type _ResourceContext = Expect<Equal<Flat<ResourceContext<'Space'>>, Flat<Base<'Space'> & { readonly status: SpaceStatus }>>>;
type _CellContext = Expect<
  Equal<
    Flat<CellContext>,
    Flat<
      Base<'Cell'> & {
        readonly containers: readonly ContainerDoc[];
        readonly rootId: string | undefined;
        readonly status: CellWorkingStatus;
        readonly stop?: StopOptions;
      }
    >
  >
>;
type _ContainerContext = Expect<
  Equal<
    Flat<ContainerContext>,
    Flat<Base<'Container'> & { readonly cell: CellContext; readonly status: ContainerStatus; readonly stop?: StopOptions }>
  >
>;
type _CellWorkingStatus = Expect<Equal<CellWorkingStatus['containers'], Record<string, ContainerStatus>>>;
type _CellWorkingIsCellStatus = Expect<Equal<Flat<Omit<CellWorkingStatus, 'containers'>>, Flat<CellStatus>>>;
type _OciSpecContext = Expect<
  Equal<
    OciSpecContext,
    {
      readonly cell: CellContext;
      readonly role: 'root' | 'workload';
      readonly container: ContainerDoc | undefined;
      readonly containerdId: string;
      readonly rootPid: number | undefined;
    }
  >
>;
type _ValidateContext = Expect<Equal<ValidateContext, { readonly doc: AnyDoc; readonly index: number; readonly ref: Ref }>>;
type _PlanContext = Expect<Equal<PlanContext, { readonly docs: readonly AnyDoc[]; readonly current: readonly (AnyDoc | undefined)[] }>>;
type _PlanItem = Expect<
  Equal<
    PlanItem,
    {
      ref: Ref | ScopedRef;
      by: string;
      action: 'create' | 'update' | 'unchanged' | 'delete' | 'start' | 'stop' | 'write' | 'remove' | 'note';
      detail?: string;
    }
  >
>;
// StatusContext without a kind is the context of any kind's status waterfall.
type _StatusContext = Expect<
  Has<
    StatusContext,
    { readonly ref: Ref & { kind: Kind }; readonly doc: AnyDoc; readonly parents: Parents; readonly purpose?: 'get' | 'refresh' }
  >
>;
type _CellStatusContext = Expect<
  Equal<
    Flat<StatusContext<'Cell'>>,
    {
      readonly ref: Ref & { kind: 'Cell' };
      readonly doc: CellDoc;
      readonly parents: Parents;
      readonly purpose?: 'get' | 'refresh';
    }
  >
>;
type _StatusHookMap = Expect<Equal<StatusHookMap, { for<K extends Kind>(kind: K): WaterfallHook<LiveStatusOf[K], StatusContext<K>> }>>;
type _LiveStatusOf = Expect<
  Equal<
    LiveStatusOf,
    {
      Realm: RealmStatus;
      Space: SpaceStatus;
      Stack: StackStatus;
      Cell: CellWorkingStatus;
      Container: ContainerStatus;
    }
  >
>;
type _AnyStatus = Expect<Equal<AnyStatus, StatusOf[Kind] | CellWorkingStatus>>;
type _Parents = Expect<Equal<Parents, { realm?: RealmDoc; space?: Doc<'Space'>; stack?: Doc<'Stack'>; cell?: Doc<'Cell'> }>>;
type _StopOptions = Expect<Equal<StopOptions, { signal: NodeJS.Signals; timeoutMs: number }>>;

// Errors: the codes, and the error classes' public members.
type _ErrorCode = Expect<
  Equal<
    ErrorCode,
    | 'KUKEON_E_INVALID'
    | 'KUKEON_E_INVALID_NAME'
    | 'KUKEON_E_RESERVED_NAME'
    | 'KUKEON_E_UNSUPPORTED_FIELD'
    | 'KUKEON_E_UNKNOWN_KIND'
    | 'KUKEON_E_API_VERSION'
    | 'KUKEON_E_NO_DOCUMENTS'
    | 'KUKEON_E_YAML'
    | 'KUKEON_E_NOT_FOUND'
    | 'KUKEON_E_PARENT_NOT_FOUND'
    | 'KUKEON_E_EXISTS'
    | 'KUKEON_E_HAS_CHILDREN'
    | 'KUKEON_E_BUSY'
    | 'KUKEON_E_LOCK'
    | 'KUKEON_E_STORE'
    | 'KUKEON_E_NO_STORE'
    | 'KUKEON_E_NO_RUNTIME'
    | 'KUKEON_E_CONFIG'
    | 'KUKEON_E_PLUGIN'
    | 'KUKEON_E_PLUGIN_META'
    | 'KUKEON_E_SLOT_CONFLICT'
    | 'KUKEON_E_PLUGIN_REQUIRES'
    | 'KUKEON_E_PLUGIN_CYCLE'
    | 'KUKEON_E_SERVICE'
    | 'KUKEON_E_STEP'
    | 'KUKEON_E_UNAVAILABLE'
    | 'KUKEON_E_STATE'
    | 'KUKEON_E_IN_USE'
    | 'KUKEON_E_CONFLICT'
    | 'KUKEON_E_CNI'
    | 'KUKEON_E_PULL'
    | 'KUKEON_E_CGROUP_CONTROLLER'
    | 'KUKEON_E_CGROUP_HYBRID'
    | 'KUKEON_E_DAEMON'
    | 'KUKEON_E_FORBIDDEN'
    | 'KUKEON_E_NEEDS_DAEMON'
    | 'KUKEON_E_COPY'
    | 'KUKEON_E_SYSTEM'
    | 'KUKEON_E_INSTALL'
    | 'KUKEON_E_CANCELLED'
    | 'KUKEON_E_USAGE'
    | 'KUKEON_E_INTERNAL'
  >
>;
type _KukeonError = Expect<
  Has<KukeonError, { readonly code: ErrorCode; readonly details: KukeonErrorDetails; readonly exitCode: number; describe(): string }>
>;
type _KukeonErrorCtor = Expect<
  Equal<
    ConstructorParameters<typeof KukeonError>,
    [code: ErrorCode, message?: string, details?: KukeonErrorDetails, options?: { cause?: unknown }]
  >
>;
type _KukeonErrorDetails = Expect<Equal<keyof KukeonErrorDetails, 'document' | 'kind' | 'name' | 'field' | 'plugin' | 'hint' | 'removed'>>;
type _PluginSkip = Expect<Has<PluginSkip, { readonly reason: string }>>;
type _PluginSkipCtor = Expect<Equal<ConstructorParameters<typeof PluginSkip>, [reason: string]>>;

// Documents and refs.
type _Ref = Expect<Equal<Ref, { readonly kind: Kind; readonly path: readonly string[] }>>;
type _Metadata = Expect<Equal<Metadata, { name: string; labels?: Record<string, string> }>>;
type _DocOf = Expect<
  Equal<DocOf<'Cell'>, { apiVersion: 'v1beta1'; kind: 'Cell'; metadata: Metadata; spec: CellSpec; status?: CellStatus }>
>;
type _Doc = Expect<Equal<Doc<'Realm' | 'Space'>, DocOf<'Realm'> | DocOf<'Space'>>>;
type _AnyDoc = Expect<Equal<AnyDoc, DocOf<'Realm'> | DocOf<'Space'> | DocOf<'Stack'> | DocOf<'Cell'> | DocOf<'Container'>>>;
type _StatusOf = Expect<
  Equal<StatusOf, { Realm: RealmStatus; Space: SpaceStatus; Stack: StackStatus; Cell: CellStatus; Container: ContainerStatus }>
>;

// Specs and statuses: the fields that exist are pinned; new optional fields may come with each slot.
type Common = {
  state?: 'Pending' | 'Ready' | 'Degraded' | 'Stopped' | 'Exited' | 'Failed' | 'Unknown';
  reason?: string;
  message?: string;
  createdAt?: string;
  updatedAt?: string;
};
type _State = Expect<Equal<State, 'Pending' | 'Ready' | 'Degraded' | 'Stopped' | 'Exited' | 'Failed' | 'Unknown'>>;
type _STATES = Expect<Equal<typeof STATES, readonly ['Pending', 'Ready', 'Degraded', 'Stopped', 'Exited', 'Failed', 'Unknown']>>;
type _RestartPolicy = Expect<Equal<RestartPolicy, 'never' | 'always' | 'on-failure' | 'unless-stopped'>>;
type _RESTART_POLICIES = Expect<Equal<typeof RESTART_POLICIES, readonly ['never', 'always', 'on-failure', 'unless-stopped']>>;
type _ContainerReason = Expect<
  Equal<ContainerReason, 'Completed' | 'Error' | 'Killed' | 'OOMKilled' | 'CrashLoopBackOff' | 'ImagePullFailed' | 'Stopped' | 'Reboot'>
>;
type _Size = Expect<Equal<Size, number | string>>;
type _Resources = Expect<
  Equal<
    Resources,
    { cpu?: { max?: string; weight?: number }; memory?: { max?: Size; high?: Size }; pids?: { max?: number }; io?: { weight?: number } }
  >
>;
type _NormalizedResources = Expect<
  Equal<
    NormalizedResources,
    { cpu?: { max?: string; weight?: number }; memory?: { max?: number; high?: number }; pids?: { max?: number }; io?: { weight?: number } }
  >
>;
type _RealmSpec = Expect<
  Has<
    RealmSpec,
    { namespace?: string; resources?: Resources; registryCredentials?: { username: string; password: string; serverAddress: string }[] }
  >
>;
type _SpaceNetworkSpec = Expect<Has<SpaceNetworkSpec, { subnet?: string; allowFrom?: string[] }>>;
type _SpaceSpec = Expect<Has<SpaceSpec, { realmId: string; cniConfigPath?: string; network?: SpaceNetworkSpec; resources?: Resources }>>;
type _StackSpec = Expect<Has<StackSpec, { id?: string; realmId: string; spaceId: string; resources?: Resources }>>;
type _CellSpec = Expect<
  Has<
    CellSpec,
    {
      id?: string;
      realmId: string;
      spaceId: string;
      stackId: string;
      rootContainerId?: string;
      containers: ContainerSpec[];
      resources?: Resources;
      cgroupParent?: string;
    }
  >
>;
type _ContainerPort = Expect<Has<ContainerPort, { containerPort: number; hostPort?: number; protocol?: 'tcp' | 'udp'; hostIP?: string }>>;
type _ContainerSpec = Expect<
  Has<
    ContainerSpec,
    {
      id: string;
      realmId?: string;
      spaceId?: string;
      stackId?: string;
      cellId?: string;
      root?: boolean;
      image?: string;
      command?: string;
      args?: string[];
      env?: string[];
      workingDir?: string;
      ports?: ContainerPort[];
      hostNetwork?: boolean;
      resources?: Resources;
      restartPolicy?: RestartPolicy;
      restartMaxRetries?: number;
      restartBackoffSeconds?: number;
      privileged?: boolean;
      hostPID?: boolean;
      volumes?: VolumeMount[];
    }
  >
>;
type _RealmStatus = Expect<Has<RealmStatus, Common & { namespace?: string; cgroupPath?: string }>>;
type _SpaceNetworkStatus = Expect<Has<SpaceNetworkStatus, { subnet?: string; gateway?: string; bridge?: string; conflistPath?: string }>>;
type _SpaceStatus = Expect<Has<SpaceStatus, Common & { cgroupPath?: string; network?: SpaceNetworkStatus }>>;
type _StackStatus = Expect<Has<StackStatus, Common & { cgroupPath?: string }>>;
type _CgroupStats = Expect<Has<CgroupStats, { cpuUsageUsec?: number; memoryCurrent?: number; pidsCurrent?: number }>>;
type _CellNetworkStatus = Expect<
  Has<
    CellNetworkStatus,
    {
      state?: 'Attached' | 'Broken' | 'Host';
      interface?: string;
      address?: string;
      gateway?: string;
      mac?: string;
      hostInterface?: string;
      message?: string;
    }
  >
>;
type _CellStatus = Expect<
  Has<
    CellStatus,
    Common & {
      ip?: string;
      network?: CellNetworkStatus;
      cgroupPath?: string;
      root?: CellRootStatus;
      stats?: CgroupStats;
      containerStatuses?: CellContainerStatus[];
    }
  >
>;
type _CellContainerStatus = Expect<
  Has<
    CellContainerStatus,
    {
      name: string;
      root?: boolean;
      state?: State;
      reason?: string;
      message?: string;
      exitCode?: number;
      exitSignal?: string;
      restartCount: number;
      startTime?: string;
      finishTime?: string;
      restartTime?: string;
      nextRestartAt?: string;
    }
  >
>;
type _CellRootStatus = Expect<Has<CellRootStatus, { containerdId?: string; pid?: number; netns?: string; synthesized?: boolean }>>;
type _ContainerStatus = Expect<
  Has<
    ContainerStatus,
    Common & {
      pid?: number;
      exitCode?: number;
      exitSignal?: string;
      startTime?: string;
      finishTime?: string;
      restartCount?: number;
      restartTime?: string;
      nextRestartAt?: string;
      stoppedByUser?: boolean;
      containerdId?: string;
      logPath?: string;
      cgroupPath?: string;
      stats?: CgroupStats;
    }
  >
>;

// The SDK's functions: their signatures.
type _failpoint = Expect<Equal<typeof failpoint, (name: string) => void>>;
type _formatRef = Expect<Equal<typeof formatRef, (ref: { readonly kind: string; readonly path: readonly string[] }) => string>>;
type _parentRef = Expect<Equal<typeof parentRef, (ref: Ref) => Ref | undefined>>;
type _refOf = Expect<Equal<typeof refOf, (doc: AnyDoc) => Ref>>;
type _rootContainerId = Expect<
  Equal<
    typeof rootContainerId,
    (spec: (Pick<CellSpec, 'rootContainerId'> & { containers?: readonly ContainerSpec[] }) | undefined) => string | undefined
  >
>;
type _childKind = Expect<Equal<typeof childKind, (kind: Kind) => Kind | undefined>>;
type _kindDepth = Expect<Equal<typeof kindDepth, (kind: Kind) => number>>;
type _isPluginSkip = Expect<Equal<typeof isPluginSkip, (e: unknown) => e is PluginSkip>>;
type _isKukeonError = Expect<Equal<typeof isKukeonError, (e: unknown) => e is KukeonError>>;
type _toKukeonError = Expect<Equal<typeof toKukeonError, (e: unknown, code?: ErrorCode, details?: KukeonErrorDetails) => KukeonError>>;
type _normalizeResources = Expect<Equal<typeof normalizeResources, (r: Resources | undefined) => NormalizedResources | undefined>>;
type _AtomicWriteOptions = Expect<Equal<AtomicWriteOptions, { mode?: number; failpoint?: string }>>;
type _writeFileAtomic = Expect<
  Equal<typeof writeFileAtomic, (file: string, data: string | Uint8Array, options?: AtomicWriteOptions) => Promise<void>>
>;
type _writeFileAtomicSync = Expect<
  Equal<typeof writeFileAtomicSync, (file: string, data: string | Uint8Array, options?: AtomicWriteOptions) => void>
>;
type _tempPathFor = Expect<Equal<typeof tempPathFor, (target: string) => string>>;
type _fsyncDir = Expect<Equal<typeof fsyncDir, (dir: string) => Promise<void>>>;
type _ensureDirDurable = Expect<Equal<typeof ensureDirDurable, (dir: string) => Promise<void>>>;
type _cleanStrayTemps = Expect<Equal<typeof cleanStrayTemps, (dir: string, options?: { recursive?: boolean }) => Promise<string[]>>>;

// A config table's property, as plugins declare it.
type _ConfigProperty = Expect<
  Equal<
    ConfigProperty,
    {
      type?: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
      description?: string;
      default?: unknown;
      enum?: unknown[];
      items?: unknown;
      minimum?: number;
      'x-flag'?: string;
      'x-env'?: string;
      [keyword: string]: unknown;
    }
  >
>;
type _ConfigSchemaShape = Expect<
  Equal<ConfigSchema, { type: 'object'; properties?: Record<string, ConfigProperty>; required?: string[]; additionalProperties?: boolean }>
>;

// The OCI spec the ociSpec hook passes along, exactly.
type _OciMount = Expect<Equal<OciMount, { destination: string; type?: string; source?: string; options?: string[] }>>;
type _OciNamespace = Expect<Equal<OciNamespace, { type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup'; path?: string }>>;
type _OciProcess = Expect<
  Equal<
    OciProcess,
    {
      terminal?: boolean;
      consoleSize?: { height: number; width: number };
      user: { uid: number; gid: number; additionalGids?: number[] };
      args: string[];
      env?: string[];
      cwd: string;
      capabilities?: Record<string, string[]>;
      rlimits?: { type: string; hard: number; soft: number }[];
      noNewPrivileges?: boolean;
      oomScoreAdj?: number;
    }
  >
>;
type _OciLinuxResources = Expect<
  Equal<
    OciLinuxResources,
    {
      memory?: { limit?: number; reservation?: number; swap?: number };
      cpu?: { shares?: number; quota?: number; period?: number };
      pids?: { limit: number };
      unified?: Record<string, string>;
      devices?: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[];
      [key: string]: unknown;
    }
  >
>;
type _OciSpec = Expect<
  Equal<
    OciSpec,
    {
      ociVersion: string;
      process?: OciProcess;
      root?: { path: string; readonly?: boolean };
      hostname?: string;
      mounts?: OciMount[];
      annotations?: Record<string, string>;
      linux?: {
        namespaces?: OciNamespace[];
        cgroupsPath?: string;
        resources?: OciLinuxResources;
        maskedPaths?: string[];
        readonlyPaths?: string[];
        [key: string]: unknown;
      };
      [key: string]: unknown;
    }
  >
>;

// The services beyond the store (sdk/services/), exactly.
type _ApiService = Expect<
  Equal<
    ApiService,
    {
      prepare?(options?: Partial<ApiListenOptions>): string;
      listen(api: ControllerApi, options?: Partial<ApiListenOptions>): Promise<{ address: string; close(): Promise<void> }>;
    }
  >
>;
// The controller API the CLI and kukeond's clients call (sdk/controller-api.ts): its verbs, its call options and
// the requests with options that travel on the wire, exactly.
type _ControllerVerbs = Expect<
  Equal<
    keyof ControllerApi,
    | 'version'
    | 'apply'
    | 'create'
    | 'get'
    | 'describe'
    | 'delete'
    | 'deleteDocuments'
    | 'purge'
    | 'start'
    | 'stop'
    | 'kill'
    | 'restart'
    | 'refresh'
    | 'loadImage'
    | 'listImages'
    | 'pullImage'
    | 'removeImage'
    | 'pruneImages'
    | 'logs'
    | 'wait'
    | 'watch'
    | 'doctor'
    | 'plugins'
    | 'listSecrets'
    | 'deleteSecret'
    | 'exec'
    | 'attach'
  >
>;
type _CallOptions = Expect<Equal<CallOptions, { signal?: AbortSignal; onProgress?: (event: ProgressEvent) => void }>>;
type _PullPolicy = Expect<Equal<PullPolicy, 'missing' | 'never' | 'always'>>;
type _ApplyRequest = Expect<
  Equal<
    Flat<ApplyRequest>,
    { text: string; source?: string; dryRun?: boolean; forceSystem?: boolean; pull?: PullPolicy; credentials?: RegistryCredentialSpec[] }
  >
>;
type _GetRequest = Expect<
  Equal<GetRequest, { kind: Kind | ScopedKind; scope: string[]; name?: string; selector?: string; allRealms?: boolean }>
>;
type _DescribeRequest = Expect<Equal<DescribeRequest, { ref: Ref }>>;
type _DescribeResult = Expect<Equal<DescribeResult, { doc: AnyDoc; events?: ResourceEvent[] }>>;
type _ResourceEvent = Expect<Equal<ResourceEvent, { time: string; ref: Ref; type: 'Normal' | 'Warning'; reason: string; message: string }>>;
type _DescribeMethod = Expect<Equal<ControllerApi['describe'], (req: DescribeRequest, opts?: CallOptions) => Promise<DescribeResult>>>;
type _WatchEventTypes = Expect<Equal<WatchEvent['type'], 'ADDED' | 'MODIFIED' | 'DELETED' | 'EXIT'>>;
type _ApplyMethod = Expect<Equal<ControllerApi['apply'], (req: ApplyRequest, opts?: CallOptions) => Promise<ApplyReport>>>;
type _LogsMethod = Expect<Equal<ReturnType<ControllerApi['logs']>, AsyncIterable<Uint8Array>>>;

type _ApiListenOptions = Expect<Equal<ApiListenOptions, { socketPath: string; group?: string }>>;
type _ImageSummary = Expect<Equal<ImageSummary, { name: string; digest: string; size: number; user?: string }>>;
type _RegistryCredentialSpec = Expect<Equal<RegistryCredentialSpec, { username: string; password: string; serverAddress: string }>>;
type _ImagePullOptions = Expect<
  Equal<
    ImagePullOptions,
    {
      platform?: string;
      insecure?: boolean;
      credentials?: RegistryCredentialSpec[];
      onProgress?: (event: { kind: string; [key: string]: unknown }) => void;
      signal?: AbortSignal;
    }
  >
>;
type _ImagePullResult = Expect<Equal<Flat<ImagePullResult>, Flat<ImageSummary & { platform: string }>>>;
type _ImageService = Expect<
  Equal<
    ImageService,
    {
      load(realm: string, archive: NodeJS.ReadableStream): Promise<ImageSummary[]>;
      list(realm: string): Promise<ImageSummary[]>;
      pull?(realm: string, ref: string, opts?: ImagePullOptions): Promise<ImagePullResult>;
      ensure?(realm: string, ref: string, opts: ImagePullOptions & { policy: 'missing' | 'never' | 'always' }): Promise<void>;
      remove?(realm: string, ref: string): Promise<void>;
      prune?(realm: string): Promise<string[]>;
    }
  >
>;
type _LogService = Expect<Equal<LogService, { path(cellPath: readonly string[], containerId: string): string }>>;
type _WaitResult = Expect<Equal<WaitResult, { exitCode: number; exitSignal?: string; finishTime?: string }>>;
type _WaitService = Expect<
  Equal<WaitService, { wait(cellPath: readonly string[], containerId: string, signal?: AbortSignal): Promise<WaitResult> }>
>;
type _ServicesInMap = Expect<
  Equal<
    [ServiceMap['runtime.images'], ServiceMap['runtime.logs'], ServiceMap['runtime.wait'], ServiceMap['api']],
    [ImageService, LogService, WaitService, ApiService]
  >
>;

// The kit, which plugin authors call and read.
type _ConformanceCase = Expect<Equal<ConformanceCase, { name: string; ok: boolean; error?: string; ms: number }>>;
type _ConformanceReport = Expect<Equal<ConformanceReport, { slot: Slot; plugin: string; cases: ConformanceCase[]; ok: boolean }>>;
type _TestFn = Expect<Equal<TestFn, (name: string, fn: () => Promise<void>) => unknown>>;
type _StoreOptions = Expect<
  Equal<
    StoreConformanceOptions,
    {
      plugin: string | Plugin<any>;
      module?: string;
      config?: Record<string, unknown>;
      makeRunPath?: () => string;
      baseDir?: string;
      writers?: number;
      updates?: number;
      lockTimeoutMs?: number;
      only?: readonly string[];
    }
  >
>;
type _StoreCase = Expect<
  Equal<
    StoreCase,
    | 'loads and provides the store service'
    | 'create and read at every level (Realm..Container)'
    | 'update at every level'
    | 'delete at every level'
    | 'scoped reads list only the children of the given parent'
    | 'list is sorted by name; missing refs read as undefined'
    | 'parent required'
    | 'remove of a missing ref succeeds'
    | 'stray files are ignored'
    | 'concurrent writers in separate processes lose no update'
    | 'crash between temp write and rename keeps the old version; a re-run converges'
    | 'kukeon runs on it (apply, get, update, delete)'
  >
>;
type _CellCase = Expect<
  Equal<
    CellCase,
    | 'create is idempotent'
    | 'start is idempotent'
    | 'delete is idempotent'
    | 'delete when parts are already gone'
    | `purge after a crash after ${CellStartStep}`
    | 'a re-apply after a crash converges'
    | `undo after a failure after ${CellStartStep}`
    | 'purge of the realm leaves nothing'
  >
>;
type _KukeResult = Expect<Equal<KukeResult, { code: number; signal?: NodeJS.Signals | null; stdout: string; stderr: string }>>;
type _CellDriver = Expect<
  Equal<
    CellDriver,
    {
      configure(extra: Record<string, unknown>): void | Promise<void>;
      kuke(args: readonly string[], options?: { input?: string; env?: Record<string, string | undefined> }): Promise<KukeResult>;
    }
  >
>;
type _CellOptions = Expect<
  Equal<
    CellConformanceOptions,
    { driver: CellDriver; plugin: string; image: string; imageArchive?: string; workDir: string; realm?: string; only?: readonly string[] }
  >
>;
type _ProbeEvent = Expect<
  Has<ProbeEvent, { event: 'done' | 'undo'; step: CellStartStep; cell: string; root?: number; rootAlive: boolean }>
>;
type _runStore = Expect<Equal<typeof runStoreConformance, (options: StoreConformanceOptions) => Promise<ConformanceReport>>>;
type _storeTests = Expect<Equal<typeof storeConformanceTests, (test: TestFn, options: StoreConformanceOptions, prefix?: string) => void>>;
type RunCell = (options: CellConformanceOptions) => Promise<ConformanceReport>;
type CellTests = (test: TestFn, options: CellConformanceOptions | (() => CellConformanceOptions), prefix?: string) => void;
type _runRuntime = Expect<Equal<typeof runRuntimeConformance, RunCell>>;
type _runNetwork = Expect<Equal<typeof runNetworkConformance, RunCell>>;
type _runCgroups = Expect<Equal<typeof runCgroupsConformance, RunCell>>;
type _runtimeTests = Expect<Equal<typeof runtimeConformanceTests, CellTests>>;
type _networkTests = Expect<Equal<typeof networkConformanceTests, CellTests>>;
type _cgroupsTests = Expect<Equal<typeof cgroupsConformanceTests, CellTests>>;
type _conformanceTests = Expect<
  Equal<typeof conformanceTests, (test: TestFn, names: readonly string[], run: () => Promise<ConformanceReport>, prefix?: string) => void>
>;
type _assertConformance = Expect<Equal<typeof assertConformance, (report: ConformanceReport) => ConformanceReport>>;
type _formatReport = Expect<Equal<typeof formatReport, (report: ConformanceReport) => string>>;

// What a plugin author writes compiles, and what they must not write does not.
definePlugin({
  name: 'typed',
  version: '1.0.0',
  slot: 'network',
  requires: ['runtime'],
  apply(host) {
    host.hooks.cell.attachNetwork.tapPromise({ name: 'typed', stage: 0 }, async (ctx) => {
      ctx.status.ip = '10.0.0.2';
      // @ts-expect-error the context's own fields are read-only
      ctx.rootId = 'x';
      return () => undefined;
    });
    host.hooks.ociSpec.tapPromise('typed', async (spec, ctx) => ({ ...spec, hostname: ctx.cell.ref.path[3] }));
    host.services.provide('network.diagnose', { diagnose: async () => [{ check: 'x', status: 'ok', detail: '' }] });
    // @ts-expect-error a service must have its declared type
    host.services.provide('network.diagnose', { diagnose: () => [] });
    // @ts-expect-error an unknown service name
    host.services.get('network.nope');
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Runtime: the value exports, and the example's JSDoc types

const REPO_ROOT = path.resolve(__dirname, '../..');

test('kukeon/sdk exports exactly these values', () => {
  const sdk = require(path.join(REPO_ROOT, 'dist', 'sdk', 'index.js')) as Record<string, unknown>;
  assert.equal(Object.keys(sdk).sort(), [
    'API_VERSION',
    'CELL_START_STEPS',
    'CELL_STOP_STEPS',
    'CONTROLLER_VERBS',
    'ErrorCodes',
    'Ipv4Cidr',
    'KINDS',
    'KukeonError',
    'LINUX_CAPABILITIES',
    'PHASES',
    'PluginSkip',
    'RESTART_POLICIES',
    'SCOPED_DIRS',
    'SCOPED_KINDS',
    'SCOPED_MAX_DEPTH',
    'SCOPED_RESERVED_NAMES',
    'SLOTS',
    'STATES',
    'SecurityOptError',
    'capabilityName',
    'childKind',
    'claimSocket',
    'cleanStrayTemps',
    'cpuSharesToWeight',
    'definePlugin',
    'ensureDirDurable',
    'failpoint',
    'formatRef',
    'fsyncDir',
    'groupId',
    'groupName',
    'isKukeonError',
    'isPluginSkip',
    'isScopedKind',
    'kindDepth',
    'normalizeResources',
    'parentRef',
    'parseCpuMax',
    'parseSecurityOpts',
    'parseSize',
    'pidFileOf',
    'prepareSocketDir',
    'probeSocket',
    'refOf',
    'rootContainerId',
    'scopeNames',
    'scopeRefAt',
    'scopeRefOf',
    'scopedRefOf',
    'setSocketMode',
    'tempPathFor',
    'toKukeonError',
    'volumeRefOf',
    'writeFileAtomic',
    'writeFileAtomicSync',
  ]);
});

test('kukeon/sdk/testkit exports exactly these values, and resolves through the package exports', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.is(pkg.exports['./sdk'], './dist/sdk/index.js');
  assert.is(pkg.exports['./sdk/testkit'], './dist/sdk/testkit/index.js');
  const kit = require(path.join(REPO_ROOT, pkg.exports['./sdk/testkit'])) as Record<string, unknown>;
  assert.equal(Object.keys(kit).sort(), [
    'CELL_CASES',
    'CGROUPS_CASES',
    'ConformanceFailure',
    'NETWORK_CASES',
    'PROBE_NAME',
    'RUNTIME_CASES',
    'STORE_CASES',
    'assertConformance',
    'cgroupsConformanceTests',
    'conformanceTests',
    'formatReport',
    'networkConformanceTests',
    'runCgroupsConformance',
    'runNetworkConformance',
    'runRuntimeConformance',
    'runStoreConformance',
    'runtimeConformanceTests',
    'storeConformanceTests',
  ]);
  // Loading the SDK does not load the kit (or the host): plugins pay nothing for it.
  const sdkIndex = fs.readFileSync(path.join(REPO_ROOT, 'dist', 'sdk', 'index.js'), 'utf8');
  assert.not.match(sdkIndex, /testkit|src\/host/);
});

test('plugins import kukeon/sdk through its index only (and never src/ or another plugin)', () => {
  const bad: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const text = fs.readFileSync(p, 'utf8');
        for (const m of text.matchAll(/(?:from |require\(|import\()'((?:\.\.\/)+[^']*)'/g)) {
          const target = path.relative(REPO_ROOT, path.resolve(path.dirname(p), m[1]));
          const own = path.relative(REPO_ROOT, path.dirname(p)).split(path.sep).slice(0, 2).join('/');
          if (target === 'sdk' || target.startsWith(`${own}/`)) continue;
          bad.push(`${path.relative(REPO_ROOT, p)}: ${m[1]}`);
        }
      }
    }
  };
  walk(path.join(REPO_ROOT, 'plugins'));
  assert.equal(bad, []);
});

test('examples/store-json (JavaScript with JSDoc types) type-checks against kukeon/sdk', () => {
  const ts = require('typescript') as typeof import('typescript');
  const options: import('typescript').CompilerOptions = {
    allowJs: true,
    checkJs: true,
    noEmit: true,
    strict: true,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    typeRoots: [path.join(REPO_ROOT, 'node_modules', '@types')],
    resolveJsonModule: true,
    skipLibCheck: true,
    baseUrl: REPO_ROOT,
    paths: { 'kukeon/sdk': ['sdk/index.ts'] },
  };
  const files = ['examples/store-json/index.js', 'test/fixtures/store-json-broken/index.js'].map((f) => path.join(REPO_ROOT, f));
  const program = ts.createProgram(files, options);
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
    const where =
      d.file && d.start !== undefined
        ? `${path.relative(REPO_ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: `
        : '';
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  assert.equal(diagnostics, []);
});

test('examples/store-json is under 90 lines of code (formatted) and depends only on kukeon', () => {
  const dir = path.join(REPO_ROOT, 'examples', 'store-json');
  const code = fs
    .readFileSync(path.join(dir, 'index.js'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('//') && !/^\s*\/\*\*.*\*\/\s*$/.test(l));
  assert.ok(code.length < 90, `${code.length} lines of code`);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  assert.equal(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.devDependencies }), ['kukeon']);
  const requires = [...fs.readFileSync(path.join(dir, 'index.js'), 'utf8').matchAll(/require\('([^']+)'\)/g)].map((m) => m[1]);
  assert.equal(
    requires.filter((r) => !r.startsWith('node:') && !r.startsWith('./')),
    ['kukeon/sdk'],
  );
});

test.run();
