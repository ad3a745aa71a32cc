// Resource types: the v1beta1 manifest format (upstream field names) plus the status kukeon keeps.

import type { ContainerSecret } from './secrets';

export const API_VERSION = 'v1beta1';

/** Kinds in hierarchy order: parents before children. */
export const KINDS = ['Realm', 'Space', 'Stack', 'Cell', 'Container'] as const;
export type Kind = (typeof KINDS)[number];

export const PHASES = ['create', 'start', 'stop', 'update', 'delete', 'purge'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * `Degraded`: a cell with a restart pending (a container exited and its policy will start it again), or, as `get`
 * reads it live, a cell recorded Ready whose root runs while a workload that should run has no running task.
 */
export const STATES = ['Pending', 'Ready', 'Degraded', 'Stopped', 'Exited', 'Failed', 'Unknown'] as const;
export type State = (typeof STATES)[number];

/** Depth of a kind in the hierarchy: Realm 1 ... Container 5 (the length of its path). */
export function kindDepth(kind: Kind): number {
  return KINDS.indexOf(kind) + 1;
}

/**
 * Where a resource lives: its kind and its path of names from the realm down,
 * for example `{ kind: 'Cell', path: ['main', 'blog', 'wp', 'web'] }`.
 */
export interface Ref {
  readonly kind: Kind;
  readonly path: readonly string[];
}

/** `cell/main/blog/wp/web`: how refs are printed by the CLI and in errors. */
export function formatRef(ref: { readonly kind: string; readonly path: readonly string[] }): string {
  return `${ref.kind.toLowerCase()}/${ref.path.join('/')}`;
}

export function parentRef(ref: Ref): Ref | undefined {
  const i = KINDS.indexOf(ref.kind);
  if (i === 0) return undefined;
  return { kind: KINDS[i - 1], path: ref.path.slice(0, -1) };
}

export function childKind(kind: Kind): Kind | undefined {
  return KINDS[KINDS.indexOf(kind) + 1];
}

/** Sizes are bytes or strings with a binary suffix (`64Mi`); cpu.max is `"<quota> <period>"` or `"max"`. */
export type Size = number | string;

/** One shape of limits at every level (cgroup v2 file names). */
export interface Resources {
  cpu?: { max?: string; weight?: number };
  memory?: { max?: Size; high?: Size };
  pids?: { max?: number };
  io?: { weight?: number };
}

export interface Metadata {
  name: string;
  labels?: Record<string, string>;
}

export interface RealmSpec {
  /** containerd namespace; `kukeon-<realm>` when unset. */
  namespace?: string;
  resources?: Resources;
  /** Credentials for pulling the realm's images; tried before the `kuke login` file. */
  registryCredentials?: { username: string; password: string; serverAddress: string }[];
}

/** A space's network: its subnet (else one from the network plugin's pool) and the spaces whose cells may reach it. */
export interface SpaceNetworkSpec {
  /** IPv4 CIDR, for example `10.90.7.0/24`. */
  subnet?: string;
  /** Spaces whose cells may open connections to this space's cells: `space` (same realm) or `realm/space`. */
  allowFrom?: string[];
}

export interface SpaceSpec {
  realmId: string;
  /** Absolute path of the space's CNI conflist; `<confDir>/<realm>-<space>.conflist` when unset. */
  cniConfigPath?: string;
  network?: SpaceNetworkSpec;
  resources?: Resources;
}

export interface StackSpec {
  id?: string;
  realmId: string;
  spaceId: string;
  resources?: Resources;
}

/** A published port: `hostPort` on the host forwards to `containerPort` in the cell (without hostPort: not published). */
export interface ContainerPort {
  containerPort: number;
  hostPort?: number;
  /** Default `tcp`. */
  protocol?: 'tcp' | 'udp';
  /** Only this host address; default every address. */
  hostIP?: string;
}

export interface ContainerSpec {
  id: string;
  realmId?: string;
  spaceId?: string;
  stackId?: string;
  cellId?: string;
  root?: boolean;
  image?: string;
  /** Replaces the image's entrypoint. */
  command?: string;
  /** Replaces the image's cmd. */
  args?: string[];
  /** `K=V` strings. */
  env?: string[];
  workingDir?: string;
  ports?: ContainerPort[];
  /** Run in the host's network namespace (every container of the cell must agree). */
  hostNetwork?: boolean;
  resources?: Resources;
  /** What the daemon does when the container exits (Docker's semantics); default `never`. */
  restartPolicy?: RestartPolicy;
  /** `on-failure`: how many restarts before the container is left `Failed`; default 5. */
  restartMaxRetries?: number;
  /** The first restart's delay in seconds (fractions allowed); it doubles up to 60 s; default 0.1. */
  restartBackoffSeconds?: number;
  /**
   * Docker's --privileged: every capability, no seccomp, no masked or read-only /proc paths, /sys writable, every
   * host device. The containerd plugin's `allowPrivileged: false` forbids it.
   */
  privileged?: boolean;
  /** The host's PID namespace. The containerd plugin's `allowPrivileged: false` forbids it. */
  hostPID?: boolean;
  /** `uid[:gid]`, or names (`nobody`, `app:app`) resolved from the image's /etc/passwd and /etc/group; default the image's. */
  user?: string;
  /** Over the default set (Docker's); names with or without `CAP_`, any case; `ALL` in either list. */
  capabilities?: ContainerCapabilities;
  /** Docker's `--security-opt`: `seccomp=unconfined`, `seccomp=<JSON profile path>`, `no-new-privileges[=true|false]`. */
  securityOpts?: string[];
  /** The container's root filesystem mounted read-only. */
  readOnlyRootFilesystem?: boolean;
  /** Host device nodes made available in the container: a path (access `rwm`) or `{ path, permissions }`. */
  devices?: (string | DeviceMapping)[];
  /** Paths mounted as a fresh tmpfs (`nosuid,nodev,noexec`), as Docker's `--tmpfs`. */
  tmpfs?: string[];
  /** Bind mounts, tmpfs mounts and named volumes (see VolumeMount). */
  volumes?: VolumeMount[];
  /** Values handed over at each start: a read-only file at `mountPath`, else an environment variable (sdk/secrets.ts). */
  secrets?: ContainerSecret[];
  /**
   * The container runs with a terminal that kukeond owns: `kuke attach` reaches it, and its output goes to the
   * container's log as for any other. Needs kukeond (an in-process start refuses it).
   */
  attachable?: boolean;
  /**
   * With `attachable`: `false` runs it without a terminal, its stdout and stderr kept apart (`kuke attach` and the
   * Kubernetes CRI tell them apart); default `true`.
   */
  terminal?: boolean;
  /** With `attachable: true, terminal: false`: its stdin stays open for attached clients (docker's -i); default closed. */
  stdin?: boolean;
  /** With `stdin`: the first attached client's end of input closes the container's stdin (docker's stdin-once). */
  stdinOnce?: boolean;
  /** Upstream's terminal-server settings; accepted only empty here (its `prompt`, `onInit`, `logFile`, `logLevel` are refused). */
  tty?: Record<string, never>;
}

/** Capabilities added to and dropped from the default set. */
export interface ContainerCapabilities {
  add?: string[];
  drop?: string[];
}

/** A host device node: `path` on the host appears at the same path in the container, with cgroup access `permissions`. */
export interface DeviceMapping {
  path: string;
  /** Any of `r`, `w`, `m` (read, write, mknod); default `rwm`. */
  permissions?: string;
}

/** Which named volume a `kind: volume` mount uses: a realm-, space- or stack-scoped Volume. */
export interface VolumeRef {
  name: string;
  /** Filled with the container's realm when a manifest leaves it out. */
  realm: string;
  space?: string;
  stack?: string;
}

/**
 * One mount of a container. `bind` (the default when `kind` is empty): the absolute host path `source` (which may
 * contain `${CELL_NAME}`) at `target`; a missing source is an error unless `ensure` creates it with `mode`.
 * `tmpfs`: a tmpfs at `target`, at most `sizeBytes`, with `mode`. `volume`: the named volume `volumeRef` at `target`.
 */
export interface VolumeMount {
  kind?: 'bind' | 'tmpfs' | 'volume';
  source?: string;
  target: string;
  readOnly?: boolean;
  sizeBytes?: number;
  /** Octal permission bits as a string (`"0750"`): of the directory `ensure` makes, or of the tmpfs root. */
  mode?: string;
  ensure?: boolean;
  volumeRef?: VolumeRef;
}

export const RESTART_POLICIES = ['never', 'always', 'on-failure', 'unless-stopped'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/**
 * Why a container is in its state, as Kubernetes' container status reasons: `Completed` (exit 0), `Error` (non-zero
 * exit), `Killed` (a signal), `OOMKilled` (the kernel's OOM killer), `CrashLoopBackOff` (a restart is pending),
 * `ImagePullFailed`, `Stopped` (by the user), `Reboot` (the host restarted under it).
 */
export type ContainerReason =
  | 'Completed'
  | 'Error'
  | 'Killed'
  | 'OOMKilled'
  | 'CrashLoopBackOff'
  | 'ImagePullFailed'
  | 'Stopped'
  | 'Reboot';

export interface CellSpec {
  id?: string;
  realmId: string;
  spaceId: string;
  stackId: string;
  rootContainerId?: string;
  containers: ContainerSpec[];
  resources?: Resources;
  /** Upstream's terminal settings of the cell: `default` names the attachable container `kuke attach` picks. */
  tty?: CellTty;
  /** kukeond deletes the cell once every workload has exited for good (no restart follows): `kuke run --rm`. */
  autoDelete?: boolean;
  /**
   * An absolute cgroup path (`/kubepods/burstable/pod<uid>`) the cell's cgroup goes under instead of its stack's:
   * the kubelet's pod cgroup, given by CRI's `cgroup_parent`. Fixed for the life of the cell.
   */
  cgroupParent?: string;
}

export interface CellTty {
  default?: string;
}

export interface Timestamps {
  createdAt?: string;
  updatedAt?: string;
}

export interface RealmStatus extends Timestamps {
  state?: State;
  reason?: string;
  message?: string;
  namespace?: string;
  cgroupPath?: string;
}

export interface SpaceNetworkStatus {
  subnet?: string;
  gateway?: string;
  bridge?: string;
  conflistPath?: string;
}

export interface SpaceStatus extends Timestamps {
  state?: State;
  reason?: string;
  message?: string;
  cgroupPath?: string;
  network?: SpaceNetworkStatus;
}

export interface StackStatus extends Timestamps {
  state?: State;
  reason?: string;
  message?: string;
  cgroupPath?: string;
}

/** The cell's root container as the runtime left it: what a later process needs to stop or delete it. */
export interface CellRootStatus {
  containerdId?: string;
  pid?: number;
  /** `/proc/<pid>/ns/net` of the root, or another path the network plugin attached. */
  netns?: string;
  /** Set when kukeon synthesized the root (no container of the cell is the root). */
  synthesized?: boolean;
}

/** Live usage of a cell's or container's cgroup, from the cgroups plugin's status tap (not a limit). */
export interface CgroupStats {
  cpuUsageUsec?: number;
  memoryCurrent?: number;
  pidsCurrent?: number;
}

/** The cell's attachment to its space's network, as the network plugin left it. */
export interface CellNetworkStatus {
  /** `Attached`; `Broken` when a check found it damaged; `Host` for a hostNetwork cell. */
  state?: 'Attached' | 'Broken' | 'Host';
  /** Interface in the cell (`eth0`) and its address with prefix. */
  interface?: string;
  address?: string;
  gateway?: string;
  mac?: string;
  /** The host side of the link (a veth). */
  hostInterface?: string;
  message?: string;
}

export interface CellStatus extends Timestamps {
  state?: State;
  reason?: string;
  message?: string;
  ip?: string;
  network?: CellNetworkStatus;
  cgroupPath?: string;
  root?: CellRootStatus;
  stats?: CgroupStats;
  /**
   * Each declared container's live status, in `spec.containers` order (Kubernetes' `containerStatuses`). Only in
   * what `get` and `describe` return: a container's status is stored in its own document, never in the cell's.
   */
  containerStatuses?: CellContainerStatus[];
}

/** One container's status as a cell's `get` shows it: what a user reads to tell why it is in its state. */
export interface CellContainerStatus {
  /** The container's id in the cell. */
  name: string;
  /** Set on the cell's declared root container. */
  root?: boolean;
  state?: State;
  /** A ContainerReason (`Completed`, `Error`, `Killed`, `OOMKilled`, `CrashLoopBackOff`, ...) or a failure's code. */
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

export interface ContainerStatus extends Timestamps {
  state?: State;
  pid?: number;
  exitCode?: number;
  exitSignal?: string;
  startTime?: string;
  finishTime?: string;
  /** Restarts by its restart policy since the cell was last started by a user. */
  restartCount?: number;
  /** When the policy last restarted it. */
  restartTime?: string;
  /** While a restart is pending: when it is due. */
  nextRestartAt?: string;
  /** Set by `kuke stop`/`kill` (and cleared by a start): `unless-stopped` keeps it stopped across daemon restarts. */
  stoppedByUser?: boolean;
  containerdId?: string;
  logPath?: string;
  reason?: string;
  message?: string;
  /** Relative to the cgroup2 mount, e.g. `/kukeon/main/blog/wp/web/nginx`. */
  cgroupPath?: string;
  stats?: CgroupStats;
}

export interface SpecOf {
  Realm: RealmSpec;
  Space: SpaceSpec;
  Stack: StackSpec;
  Cell: CellSpec;
  Container: ContainerSpec;
}

export interface StatusOf {
  Realm: RealmStatus;
  Space: SpaceStatus;
  Stack: StackStatus;
  Cell: CellStatus;
  Container: ContainerStatus;
}

/** The shape of one kind's document. */
export interface DocOf<K extends Kind> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: Metadata;
  spec: SpecOf[K];
  status?: StatusOf[K];
}

/** One document as written in manifests and stored by the store (spec + status); a union over kinds for `Doc`. */
export type Doc<K extends Kind = Kind> = K extends Kind ? DocOf<K> : never;

export type RealmDoc = Doc<'Realm'>;
export type SpaceDoc = Doc<'Space'>;
export type StackDoc = Doc<'Stack'>;
export type CellDoc = Doc<'Cell'>;
export type ContainerDoc = Doc<'Container'>;
export type AnyDoc = Doc<Kind>;

/**
 * Which container of a cell is its root: `spec.rootContainerId`, else the container marked `root: true`; undefined
 * when the cell has neither (the runtime synthesizes a root) or there is no spec. A stored cell document without its containers
 * answers only from `rootContainerId`.
 */
export function rootContainerId(
  spec: (Pick<CellSpec, 'rootContainerId'> & { containers?: readonly ContainerSpec[] }) | undefined,
): string | undefined {
  return spec?.rootContainerId ?? spec?.containers?.find((c) => c.root)?.id;
}

/** The ref of a document: its kind and the names from its spec's parent ids and its own name. */
export function refOf(doc: AnyDoc): Ref {
  const name = doc.metadata.name;
  switch (doc.kind) {
    case 'Realm':
      return { kind: 'Realm', path: [name] };
    case 'Space':
      return { kind: 'Space', path: [doc.spec.realmId, name] };
    case 'Stack':
      return { kind: 'Stack', path: [doc.spec.realmId, doc.spec.spaceId, name] };
    case 'Cell':
      return { kind: 'Cell', path: [doc.spec.realmId, doc.spec.spaceId, doc.spec.stackId, name] };
    case 'Container':
      return {
        kind: 'Container',
        path: [doc.spec.realmId ?? '', doc.spec.spaceId ?? '', doc.spec.stackId ?? '', doc.spec.cellId ?? '', name],
      };
  }
}
