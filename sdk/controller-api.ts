// The controller as plain data: every verb's request and response is JSON-serializable, so the same interface
// is served in-process (the CLI's --no-daemon mode) and over kukeond's socket (api-socket). Long-running and
// open-ended results (image load input, pull progress, log -f, wait, watch) are AsyncIterables.

import type { PlanItem } from './hooks';
import type { PluginStatus } from './plugin';
import type { AnyDoc, Kind, Ref } from './resources';
import type { ScopedKind, ScopedRef } from './scoped-kinds';
import type { AttachRequest, AttachResult, ExecRequest, ExecResult, SessionIO } from './sessions';
import type { SecretDeleteRequest, SecretDoc, SecretListRequest } from './secrets';
import type { Diagnosis, ImagePullResult, ImageSummary, RegistryCredentialSpec, WaitResult } from './services';

/** When creating a container pulls its image: `missing` (default), `never` or `always`. */
export type PullPolicy = 'missing' | 'never' | 'always';

/** What travels beside a request but is not part of it: cancellation and local progress rendering. */
export interface CallOptions {
  /** Aborts the operation (in the daemon too: the call is cancelled and the usual undo runs). */
  signal?: AbortSignal;
  /** Progress of a long mutation (image pulls; each item of an apply), for display; local, never sent. */
  onProgress?: (event: ProgressEvent) => void;
}

/** What a long mutation reports while it runs. */
export type ProgressEvent =
  | { kind: 'pull'; image: string; event: { kind: string; [key: string]: unknown } }
  | ApplyProgress
  | { kind: 'heartbeat' };

/** What one resource of an apply is doing (`pulling` names the image), then its item as the report will hold it. */
export type ApplyProgress =
  | { kind: 'item'; phase: 'applying' | 'creating' | 'updating' | 'starting'; ref: Ref | ScopedRef; implicit?: boolean }
  | { kind: 'item'; phase: 'pulling'; ref: Ref | ScopedRef; implicit?: boolean; image: string }
  | { kind: 'item'; phase: 'settled'; item: ApplyItem };

/** Per-request image options: they travel in the request, never as plugin config. */
export interface ImageRequestOptions {
  pull?: PullPolicy;
  /** The caller's credentials (its `kuke login` file), tried before the realm's `spec.registryCredentials`. */
  credentials?: RegistryCredentialSpec[];
}

export type ApplyAction = 'created' | 'updated' | 'unchanged' | 'failed';

export interface ApplyItem {
  /** A Volume or a Secret (the scoped kinds) has a ScopedRef. */
  ref: Ref | ScopedRef;
  action: ApplyAction;
  implicit?: boolean;
  changes?: string[];
  error?: string;
  code?: string;
  /**
   * The store revision of the write that committed this item, taken under the resource's lock: it orders the
   * writes of every operation on the run path (by any process), so replaying the items of many operations by it
   * gives the tree on disk. Unset when nothing was written (`unchanged`), or the store does not number its writes.
   */
  commit?: number;
}

export interface ApplyReport {
  items: ApplyItem[];
  /** Set on a dry run: what each plugin would change. Nothing was written. */
  plan?: PlanItem[];
}

export interface ApplyRequest extends ImageRequestOptions {
  /** One or more YAML (or JSON) documents. */
  text: string;
  /** How errors name the input (`cells.yaml`, `stdin`). */
  source?: string;
  dryRun?: boolean;
  /** Allows documents of the system realm `kukeon-system` (refused with KUKEON_E_SYSTEM otherwise). */
  forceSystem?: boolean;
}

export interface CreateRequest extends ImageRequestOptions {
  doc: AnyDoc;
  forceSystem?: boolean;
}

export interface GetRequest {
  /**
   * For a scoped kind, `scope` is a realm, space or stack path (a Secret's may be a cell's): what is in it at every
   * level is listed. A Secret's value is never in get's answer (listSecrets with showValues has it).
   */
  kind: Kind | ScopedKind;
  /** The parent's path (the scope); for containers, the cell's path, or the stack's path for every cell. */
  scope: string[];
  name?: string;
  selector?: string;
  /** Every realm, space and stack (kubectl's `-A`); `scope` is ignored. The system realm is listed only with it. */
  allRealms?: boolean;
}

export interface RemovedItem {
  ref: Ref | ScopedRef;
  warnings: string[];
  /** Set by deleteDocuments for a document that could not be deleted (the others go on). */
  error?: string;
  /** The store revision of the removal, as ApplyItem's. */
  commit?: number;
  /** A Volume whose reclaimPolicy is Retain: where its data was kept. */
  kept?: string;
}

export interface DeleteRequest {
  ref: Ref | ScopedRef;
  cascade?: boolean;
  force?: boolean;
  forceSystem?: boolean;
}

export interface DeleteDocumentsRequest {
  text: string;
  source?: string;
  cascade?: boolean;
  force?: boolean;
  forceSystem?: boolean;
}

export interface PurgeRequest {
  ref: Ref;
  cascade?: boolean;
  forceSystem?: boolean;
}

export interface CellRequest {
  ref: Ref;
}

export interface StopRequest {
  ref: Ref;
  /** SIGTERM, then SIGKILL after this long (default 10 s); 0 kills at once. */
  timeoutMs?: number;
}

export interface RefreshReport {
  inspected: number;
  updated: number;
}

export interface RealmRequest {
  realm: string;
}

export interface ImageRefRequest {
  realm: string;
  ref: string;
}

export interface PullRequest {
  realm: string;
  ref: string;
  platform?: string;
  insecure?: boolean;
  credentials?: RegistryCredentialSpec[];
}

/** Pull progress as the runtime reports it, then one `done` with the result. */
export type PullEvent =
  | { kind: 'progress'; progress: { kind: string; [key: string]: unknown } }
  | { kind: 'done'; result: ImagePullResult };

export interface LogRequest {
  ref: Ref;
  container?: string;
  /** Keep streaming what the container writes until it exits. */
  follow?: boolean;
}

export interface WaitRequest {
  ref: Ref;
  container?: string;
}

/** The one event of a wait: which container exited, and how. */
export interface WaitEvent extends WaitResult {
  container: string;
}

export interface WatchRequest {
  /** Only these kinds (default: every kind). */
  kinds?: Kind[];
  /** Only resources under this path (default: everything). */
  scope?: string[];
}

/** A resource change (the document as stored after it; none for DELETED), or a container's task exit. */
export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; ref: Ref; doc?: AnyDoc; time: string }
  | { type: 'EXIT'; ref: Ref; exitCode: number; exitSignal?: string; time: string };

export interface DescribeRequest {
  ref: Ref;
}

/**
 * Something that happened to a resource, as the daemon saw it (Kubernetes' events): `Created`, `Started`,
 * `Stopped`, `Exited`, `Restarted`, `BackOff`, `OOMKilled`, `Failed`, `NetworkAttached`, `Deleted`, ...
 */
export interface ResourceEvent {
  time: string;
  /** The resource it happened to: the described one, or (for a cell) one of its containers. */
  ref: Ref;
  /** `Warning` for exits with an error, kills, OOM kills and failures; else `Normal`. */
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** A resource with its live status (as `get` returns it) and the last events that touched it. */
export interface DescribeResult {
  doc: AnyDoc;
  /**
   * Oldest first: the resource's own events and, for a cell, its containers'. Undefined when no history is kept
   * (in-process: only the daemon keeps history); empty when the daemon saw nothing happen to it.
   */
  events?: ResourceEvent[];
}

export interface DoctorReport {
  plugins: PluginStatus[];
  findings: (Diagnosis & { service: string })[];
  ok: boolean;
}

export interface VersionInfo {
  version: string;
  /** The API the server speaks (`kukeon.v1`). */
  api: string;
  pid: number;
  runPath: string;
}

/** The one controller interface the CLI calls, in-process or through kukeond. */
export interface ControllerApi {
  version(opts?: CallOptions): Promise<VersionInfo>;
  apply(req: ApplyRequest, opts?: CallOptions): Promise<ApplyReport>;
  create(req: CreateRequest, opts?: CallOptions): Promise<ApplyItem>;
  get(req: GetRequest, opts?: CallOptions): Promise<AnyDoc[]>;
  /** One resource's live document and the events the daemon kept for it. */
  describe(req: DescribeRequest, opts?: CallOptions): Promise<DescribeResult>;
  delete(req: DeleteRequest, opts?: CallOptions): Promise<RemovedItem[]>;
  deleteDocuments(req: DeleteDocumentsRequest, opts?: CallOptions): Promise<RemovedItem[]>;
  purge(req: PurgeRequest, opts?: CallOptions): Promise<RemovedItem[]>;
  start(req: CellRequest, opts?: CallOptions): Promise<void>;
  stop(req: StopRequest, opts?: CallOptions): Promise<void>;
  kill(req: CellRequest, opts?: CallOptions): Promise<void>;
  restart(req: StopRequest, opts?: CallOptions): Promise<void>;
  refresh(opts?: CallOptions): Promise<RefreshReport>;
  loadImage(req: RealmRequest, archive: AsyncIterable<Uint8Array>, opts?: CallOptions): Promise<ImageSummary[]>;
  listImages(req: RealmRequest, opts?: CallOptions): Promise<ImageSummary[]>;
  pullImage(req: PullRequest, opts?: CallOptions): AsyncIterable<PullEvent>;
  removeImage(req: ImageRefRequest, opts?: CallOptions): Promise<void>;
  pruneImages(req: RealmRequest, opts?: CallOptions): Promise<string[]>;
  /** The container's stdout and stderr as written so far, then (with `follow`) as written until it exits. */
  logs(req: LogRequest, opts?: CallOptions): AsyncIterable<Uint8Array>;
  /** Yields one WaitEvent when the container's task exits. */
  wait(req: WaitRequest, opts?: CallOptions): AsyncIterable<WaitEvent>;
  /** Resource changes and container exits as they happen, until cancelled. */
  watch(req: WatchRequest, opts?: CallOptions): AsyncIterable<WatchEvent>;
  doctor(opts?: CallOptions): Promise<DoctorReport>;
  plugins(opts?: CallOptions): Promise<PluginStatus[]>;
  /** Secrets of a scope and every scope under it; `spec.data` only with `showValues`. */
  listSecrets(req: SecretListRequest, opts?: CallOptions): Promise<SecretDoc[]>;
  deleteSecret(req: SecretDeleteRequest, opts?: CallOptions): Promise<RemovedItem[]>;
  /** Runs a process in a running container with `io` as its stdio; resolves with its exit once it ends. */
  exec(req: ExecRequest, io: SessionIO, opts?: CallOptions): Promise<ExecResult>;
  /** Relays an attachable container's terminal through `io` until it exits or the call is cancelled (a detach). */
  attach(req: AttachRequest, io: SessionIO, opts?: CallOptions): Promise<AttachResult>;
}

/** The verbs of ControllerApi, for transports that map each one to a call. */
export const CONTROLLER_VERBS = [
  'version',
  'apply',
  'create',
  'get',
  'describe',
  'delete',
  'deleteDocuments',
  'purge',
  'start',
  'stop',
  'kill',
  'restart',
  'refresh',
  'loadImage',
  'listImages',
  'pullImage',
  'removeImage',
  'pruneImages',
  'logs',
  'wait',
  'watch',
  'doctor',
  'plugins',
  'listSecrets',
  'deleteSecret',
  'exec',
  'attach',
] as const satisfies readonly (keyof ControllerApi)[];
