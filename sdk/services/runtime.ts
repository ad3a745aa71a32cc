import type { DiagnoseService } from './diagnose';
import type { AttachResult, ExecRequest, ExecResult, SessionIO, TerminalSize } from '../sessions';

export interface ImageSummary {
  name: string;
  digest: string;
  size: number;
  /** The user the image runs as (its config's `User`: `uid[:gid]` or a name), when it sets one. */
  user?: string;
}

export interface RegistryCredentialSpec {
  username: string;
  password: string;
  /** `host[:port]` (`docker.io` for Docker Hub). */
  serverAddress: string;
}

export interface ImagePullOptions {
  /** `os/arch[/variant]`; default this host's. */
  platform?: string;
  /** Allow plain HTTP to a non-loopback registry. */
  insecure?: boolean;
  /** Tried before the realm's `spec.registryCredentials` and the `kuke login` file. */
  credentials?: RegistryCredentialSpec[];
  /** Progress events (see plugins/containerd/image/pull.ts), for rendering on a terminal. */
  onProgress?: (event: { kind: string; [key: string]: unknown }) => void;
  signal?: AbortSignal;
}

export interface ImagePullResult extends ImageSummary {
  platform: string;
}

/** `runtime.images`: images in the realm's runtime namespace. */
export interface ImageService {
  load(realm: string, archive: NodeJS.ReadableStream): Promise<ImageSummary[]>;
  list(realm: string): Promise<ImageSummary[]>;
  /** Pulls `ref` from its registry (normalised as docker does: `busybox` = `docker.io/library/busybox:latest`). */
  pull?(realm: string, ref: string, opts?: ImagePullOptions): Promise<ImagePullResult>;
  /**
   * Makes `ref` available in the realm by `policy` before a container uses it: `missing` pulls when absent,
   * `always` pulls, `never` only checks. The host calls it before taking any phase lock.
   */
  ensure?(realm: string, ref: string, opts: ImagePullOptions & { policy: 'missing' | 'never' | 'always' }): Promise<void>;
  /** Removes an image by name (normalised); its content goes with containerd's garbage collection. */
  remove?(realm: string, ref: string): Promise<void>;
  /** Removes the realm's images no container of the realm uses; returns their names. */
  prune?(realm: string): Promise<string[]>;
}

/** `runtime.logs`: where a container's stdout and stderr are written, and a reader for them. */
export interface LogService {
  path(cellPath: readonly string[], containerId: string): string;
}

export interface WaitResult {
  exitCode: number;
  exitSignal?: string;
  finishTime?: string;
}

/** `runtime.wait`: blocks until a container's task exits. */
export interface WaitService {
  wait(cellPath: readonly string[], containerId: string, signal?: AbortSignal): Promise<WaitResult>;
}

export type RuntimeDiagnose = DiagnoseService;

/** A container's task exited (its process ended), as the runtime saw it. */
export interface ExitEvent {
  cellPath: string[];
  /** The container's id in the cell (`root` for a synthesized root). */
  container: string;
  exitCode: number;
  time: string;
}

/**
 * `runtime.events`: task exits as they happen, for `kuke events`, `kuke get -w` and the daemon's supervisor. The
 * runtime does not replay exits sent while nobody was subscribed (its restart breaks the stream): the service
 * subscribes again with backoff and calls `onSubscribed` each time its stream is (re)established, so a
 * listener that must not miss an exit reads the tasks' state then.
 */
export interface ExitEventService {
  /** Calls `fn` for every exit from now on; returns the unsubscribe. */
  subscribe(fn: (e: ExitEvent) => void, onSubscribed?: () => void): () => void;
}

/** A container's task as the runtime has it now. */
export interface TaskState {
  status: 'running' | 'stopped' | 'other';
  pid?: number;
  /** Set once it stopped. */
  exitCode?: number;
  exitedAt?: string;
}

/** One task of a realm's namespace, as the runtime reports it. */
export interface TaskSummary {
  /** The runtime's id of the container (a cell's `status.root.containerdId`, a container's `status.containerdId`). */
  containerdId: string;
  running: boolean;
  pid?: number;
  /** Set once the task has exited. */
  exitCode?: number;
}

/** `runtime.tasks`: live tasks, for the supervisor (one container's) and the daemon's start-up pass (a realm's). */
export interface TaskService {
  /** The live task of one container (`root` for a synthesized root); undefined when it has none. */
  get(cellPath: readonly string[], container: string): Promise<TaskState | undefined>;
  /** The tasks of the realm's namespace; rejects with KUKEON_E_UNAVAILABLE when the runtime does not answer. */
  list(realm: string): Promise<TaskSummary[]>;
  /** Every container and task in kukeon's namespaces, with what its labels say it belongs to (`kuke status` parity). */
  inventory(): Promise<RuntimeTask[]>;
}

/** One task (or task-less container) of a namespace kukeon runs cells in, as the runtime sees it. */
export interface RuntimeTask {
  namespace: string;
  /** The runtime's container id. */
  id: string;
  /** The task's state (`RUNNING`, `STOPPED`, ...), or undefined when the container has no task. */
  status?: string;
  pid?: number;
  /** From the container's kukeon labels; undefined when the container carries none (not made by kukeon). */
  cellPath?: string[];
  container?: string;
  role?: string;
}

/** A process to run in a running container: an ExecRequest once the host chose the cell and container. */
export type ExecProcess = Omit<ExecRequest, 'ref' | 'container'>;

/**
 * `runtime.exec`: runs a process in a container's namespaces, cgroup and security settings, relaying its stdio
 * through `io` until it exits. An abort (the client went away) hangs it up (SIGHUP with a terminal), then kills
 * it after a short grace: no process outlives its session. Resolves with how it ended, aborted or not.
 */
export interface ExecService {
  exec(cellPath: readonly string[], container: string, process: ExecProcess, io: SessionIO, signal?: AbortSignal): Promise<ExecResult>;
}

/**
 * `runtime.console`: the terminals of attachable containers, owned by a long-lived host (kukeond) that reads
 * them all the time into the container's log and relays them to attached clients. An abort detaches.
 */
export interface ConsoleService {
  attach(
    cellPath: readonly string[],
    container: string,
    io: SessionIO,
    opts: { stdin?: boolean; size?: TerminalSize },
    signal?: AbortSignal,
  ): Promise<AttachResult>;
  /**
   * Optional: every chunk any attachable container writes, from its first byte (an attach may come too late for a
   * process that exits at once), and the end of its output; for front ends that keep their own logs (the CRI's).
   * Returns the unsubscribe.
   */
  observe?(fn: (event: ConsoleEvent) => void): () => void;
}

/** What an attachable container wrote (`data`, on `stream`), or the end of its output (`end`). */
export type ConsoleEvent =
  | { cellPath: readonly string[]; container: string; stream: 'stdout' | 'stderr'; data: Uint8Array }
  | { cellPath: readonly string[]; container: string; end: true };
