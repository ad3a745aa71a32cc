// Hand-written shapes of the containerd messages kukeon uses, as @grpc/proto-loader gives them with
// keepCase (snake_case names), longs: String (int64 fields are decimal strings), enums: String (enum values are
// names) and defaults (absent scalars are '', 0, false, [], {}; absent messages are null).
// Request shapes accept numbers for int64 fields and may leave out what containerd does not need.

export type Labels = Record<string, string>;
/** An int64 as decoded (always a decimal string). */
export type Int64 = string;
/** An int64 as sent (a number or a decimal string). */
export type Int64Input = number | string;

export interface Timestamp {
  seconds: Int64;
  nanos: number;
}

export interface Any {
  type_url: string;
  value: Buffer;
}

export interface Mount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

export interface Descriptor {
  media_type: string;
  digest: string;
  size: Int64 | number;
  annotations?: Labels;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface VersionInfo {
  version: string;
  revision: string;
}

export interface Namespace {
  name: string;
  labels: Labels;
}

export interface ContainerRuntime {
  name: string;
  options?: Any | null;
}

export interface Container {
  id: string;
  labels: Labels;
  image: string;
  runtime: ContainerRuntime | null;
  spec: Any | null;
  snapshotter: string;
  snapshot_key: string;
  created_at: Timestamp | null;
  updated_at: Timestamp | null;
  extensions: Record<string, Any>;
}

export interface ContainerInput {
  id: string;
  labels?: Labels;
  image?: string;
  /** Defaults to `{ name: 'io.containerd.runc.v2' }`. */
  runtime?: ContainerRuntime;
  /** The OCI runtime spec: an Any, or a plain object that is sent as JSON (see `specAny`). */
  spec?: Any | object;
  snapshotter?: string;
  snapshot_key?: string;
  extensions?: Record<string, Any>;
}

export interface ContentInfo {
  digest: string;
  size: Int64;
  created_at: Timestamp | null;
  updated_at: Timestamp | null;
  labels: Labels;
}

export interface ContentWriteInput {
  /** The expected digest (`sha256:<hex>`): containerd verifies it on commit. */
  digest: string;
  /** The bytes: a Buffer, or an iterable of chunks (then `size` is required). */
  data: Buffer | Iterable<Buffer | Uint8Array> | AsyncIterable<Buffer | Uint8Array>;
  /** Total size in bytes (taken from `data` when it is a Buffer). */
  size?: number;
  /** Ingest reference; a unique one is made when left out. */
  ref?: string;
  /** Labels set on the committed blob (not applied when the blob already exists: use content.update). */
  labels?: Labels;
}

export interface ContentWriteResult {
  digest: string;
  size: number;
  /** True when containerd already had the blob in this namespace (nothing was written). */
  existed: boolean;
}

export interface Image {
  name: string;
  labels: Labels;
  target: Descriptor;
  created_at: Timestamp | null;
  updated_at: Timestamp | null;
}

export interface ImageInput {
  name: string;
  labels?: Labels;
  target: Descriptor;
}

export interface Lease {
  id: string;
  created_at: Timestamp | null;
  labels: Labels;
}

export interface LeaseResource {
  /** A digest for `content`, a key for `snapshots/<snapshotter>`, a ref for `ingests`. */
  id: string;
  /** `content`, `ingests` or `snapshots/<snapshotter>`. */
  type: string;
}

export type SnapshotKind = 'UNKNOWN' | 'VIEW' | 'ACTIVE' | 'COMMITTED';

export interface SnapshotInfo {
  name: string;
  parent: string;
  kind: SnapshotKind;
  created_at: Timestamp | null;
  updated_at: Timestamp | null;
  labels: Labels;
}

export type TaskStatus = 'UNKNOWN' | 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'PAUSING';

export interface Process {
  container_id: string;
  id: string;
  pid: number;
  status: TaskStatus;
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  exit_status: number;
  exited_at: Timestamp | null;
}

export interface ProcessInfo {
  pid: number;
  info: Any | null;
}

export interface TaskCreateInput {
  container_id: string;
  rootfs?: Mount[];
  /** Paths or URIs (`file:///abs/path`, `fifo`, `binary://...`) for the shim's stdio; '' means none. */
  stdin?: string;
  stdout?: string;
  stderr?: string;
  terminal?: boolean;
  options?: Any;
  runtime_path?: string;
}

export interface ExecProcessInput {
  container_id: string;
  /** Unique in the task; names the process in Start, Wait, Kill, ResizePty, CloseIO and DeleteProcess. */
  exec_id: string;
  /** FIFO paths for the shim (it opens them); '' means none. With `terminal`, stdout carries the console. */
  stdin?: string;
  stdout?: string;
  stderr?: string;
  terminal?: boolean;
  /** The runtime spec's Process object (args, env, cwd, user, capabilities, terminal, ...). */
  process: object;
}

export interface TaskCreateResult {
  container_id: string;
  pid: number;
}

export interface TaskDeleteResult {
  id: string;
  pid: number;
  exit_status: number;
  exited_at: Timestamp | null;
}

export interface TaskWaitResult {
  exit_status: number;
  exited_at: Timestamp | null;
}

export interface Envelope {
  timestamp: Timestamp | null;
  namespace: string;
  topic: string;
  event: Any | null;
}

export interface ContainerdEvent {
  timestamp: Date | undefined;
  namespace: string;
  /** e.g. `/tasks/exit`, `/containers/create`, `/snapshot/prepare`. */
  topic: string;
  /** The payload's message name, e.g. `containerd.events.TaskExit`. */
  type: string;
  /** The decoded payload when kukeon's protos declare its type (task, container, namespace, snapshot events). */
  payload: Record<string, unknown> | undefined;
  /** The raw payload. */
  raw: Any | null;
}

export interface IntrospectionPlugin {
  type: string;
  id: string;
  requires: string[];
  platforms: Platform[];
  exports: Labels;
  capabilities: string[];
  init_err: { code: number; message: string } | null;
}
