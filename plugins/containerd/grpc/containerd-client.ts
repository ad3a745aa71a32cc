// A small typed gRPC client for containerd's native API over its unix socket, built on kukeon's own proto subset
// (plugins/containerd/proto). One channel per client; services are grouped by containerd's service names.
//
// Conventions:
// * The namespace is an explicit argument of every namespaced call and travels as `containerd-namespace` metadata;
//   `CallOptions.lease` adds `containerd-lease` so the garbage collector keeps what the call creates.
// * Every unary call has a deadline (the client's `timeoutMs`, default 30 s, or the call's `timeoutMs`; 0 or
//   Infinity means none). `tasks.wait` and `events.subscribe` have no deadline unless one is given, since they
//   block for as long as the process runs.
// * Failures are rethrown as `ContainerdError` (a plain Error) whose message is `<CODE_NAME>: <details>` and whose
//   `grpcCode` is the numeric gRPC status, so callers can treat NOT_FOUND as "already gone".

import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { messageType, methodDefinition } from './protos';
import { grpcCodeOf, isAlreadyExists, isNotFound } from './status-codes';
import type { OciLinuxResources } from '../../../sdk';
import type {
  Any,
  Container,
  ContainerInput,
  ContainerdEvent,
  ContentInfo,
  ContentWriteInput,
  ContentWriteResult,
  Descriptor,
  Envelope,
  ExecProcessInput,
  Image,
  ImageInput,
  IntrospectionPlugin,
  Labels,
  Lease,
  LeaseResource,
  Mount,
  Namespace,
  Process,
  ProcessInfo,
  SnapshotInfo,
  TaskCreateInput,
  TaskCreateResult,
  TaskDeleteResult,
  TaskWaitResult,
  Timestamp,
  VersionInfo,
} from './types';

export * from './types';

/** gRPC status codes by name (`GRPC_STATUS.NOT_FOUND === 5`). */
export const GRPC_STATUS = grpc.status;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const RUNC_V2_RUNTIME = 'io.containerd.runc.v2';
export const OCI_SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';
export const OCI_PROCESS_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Process';
export const OCI_RESOURCES_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources';
export const GC_EXPIRE_LABEL = 'containerd.io/gc.expire';

const CONTENT_CHUNK = 1 << 20; // bytes per Content.Write message
const MAX_MESSAGE_BYTES = 64 << 20;

const SVC = {
  version: 'containerd.services.version.v1.Version',
  namespaces: 'containerd.services.namespaces.v1.Namespaces',
  containers: 'containerd.services.containers.v1.Containers',
  content: 'containerd.services.content.v1.Content',
  images: 'containerd.services.images.v1.Images',
  leases: 'containerd.services.leases.v1.Leases',
  snapshots: 'containerd.services.snapshots.v1.Snapshots',
  diff: 'containerd.services.diff.v1.Diff',
  tasks: 'containerd.services.tasks.v1.Tasks',
  events: 'containerd.services.events.v1.Events',
  introspection: 'containerd.services.introspection.v1.Introspection',
} as const;
type ServiceKey = keyof typeof SVC;

export interface ContainerdClientOptions {
  /** Default deadline of unary calls in ms (30 000). 0 or Infinity: none. */
  timeoutMs?: number;
}

export interface CallOptions {
  /** Lease id sent as `containerd-lease` metadata. */
  lease?: string;
  /** Deadline of this call in ms; 0 or Infinity: none. */
  timeoutMs?: number;
  /** Cancels the call (it then fails with CANCELLED). */
  signal?: AbortSignal;
}

/** A failed containerd call: message `<CODE_NAME>: <details>`, numeric `grpcCode`. */
export class ContainerdError extends Error {
  readonly grpcCode: number;
  readonly codeName: string;
  readonly details: string;
  /** The gRPC method path, e.g. `/containerd.services.containers.v1.Containers/Get`. */
  readonly method: string;
  constructor(grpcCode: number, details: string, method: string) {
    const codeName = (grpc.status as unknown as Record<number, string>)[grpcCode] ?? `CODE_${grpcCode}`;
    super(`${codeName}: ${details}`);
    this.name = 'ContainerdError';
    this.grpcCode = grpcCode;
    this.codeName = codeName;
    this.details = details;
    this.method = method;
  }
}

export { grpcCodeOf, isAlreadyExists, isNotFound, isUnavailable } from './status-codes';

/** How long a call that found no connection waits for the channel to reconnect before it fails. */
const RECONNECT_WAIT_MS = 1000;

/** grpc-js's failure of a call made while the channel had no connection: the request was never sent. */
function neverSent(err: unknown): boolean {
  return err instanceof ContainerdError && err.grpcCode === grpc.status.UNAVAILABLE && /^No connection established/.test(err.details);
}

function toContainerdError(err: unknown, method: string): Error {
  if (err instanceof ContainerdError) return err;
  const e = err as Partial<grpc.ServiceError> | null;
  if (e && typeof e.code === 'number') return new ContainerdError(e.code, e.details || e.message || '', method);
  return err instanceof Error ? err : new Error(String(err));
}

/** The OCI runtime spec as the Any containerd expects in `Container.spec` (JSON bytes). */
export function specAny(spec: object): Any {
  return { type_url: OCI_SPEC_TYPE_URL, value: Buffer.from(JSON.stringify(spec)) };
}

export function timestampToDate(ts: Timestamp | null | undefined): Date | undefined {
  if (!ts) return undefined;
  return new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6));
}

/** RFC 3339 without fractional seconds, as containerd's `containerd.io/gc.expire` label wants it. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isAny(x: unknown): x is Any {
  return !!x && typeof x === 'object' && typeof (x as Any).type_url === 'string' && Buffer.isBuffer((x as Any).value);
}

function signalNumber(signal: number | NodeJS.Signals): number {
  if (typeof signal === 'number') return signal;
  const n = (os.constants.signals as Record<string, number>)[signal];
  if (typeof n !== 'number') throw new Error(`unknown signal ${signal}`);
  return n;
}

function randomId(): string {
  return crypto.randomBytes(6).toString('hex');
}

async function* chunksOf(data: ContentWriteInput['data']): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(data)) {
    for (let off = 0; off < data.length; off += CONTENT_CHUNK) yield data.subarray(off, off + CONTENT_CHUNK);
    return;
  }
  for await (const c of data as AsyncIterable<Buffer | Uint8Array>) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    for (let off = 0; off < b.length; off += CONTENT_CHUNK) yield b.subarray(off, off + CONTENT_CHUNK);
  }
}

/** Pulls responses of a duplex call one at a time. */
class ResponseQueue<T> {
  private items: T[] = [];
  private waiters: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  private failure: unknown;
  private ended = false;
  constructor(stream: NodeJS.EventEmitter) {
    stream.on('data', (d: T) => {
      const w = this.waiters.shift();
      if (w) w.resolve(d);
      else this.items.push(d);
    });
    stream.on('error', (e) => this.finish(e));
    stream.on('end', () => this.finish(undefined));
  }
  private finish(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err ?? new Error('stream ended before a response'));
  }
  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.ended) return Promise.reject(this.failure ?? new Error('stream ended before a response'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
}

/** An event subscription: iterate it with `for await`; `cancel()` ends the iteration normally. */
export interface EventSubscription extends AsyncIterable<ContainerdEvent> {
  cancel(): void;
}

export class ContainerdClient {
  readonly socketPath: string;
  readonly address: string;
  readonly timeoutMs: number;
  private readonly channel: grpc.Client;
  private closed = false;

  readonly namespaces: NamespacesApi;
  readonly containers: ContainersApi;
  readonly content: ContentApi;
  readonly images: ImagesApi;
  readonly leases: LeasesApi;
  readonly snapshots: SnapshotsApi;
  readonly diff: DiffApi;
  readonly tasks: TasksApi;
  readonly events: EventsApi;
  readonly introspection: IntrospectionApi;

  constructor(socketPath: string, options: ContainerdClientOptions = {}) {
    this.socketPath = path.resolve(socketPath);
    this.address = `unix://${this.socketPath}`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.channel = new grpc.Client(this.address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      // containerd's socket is local: retry a lost connection quickly instead of backing off for seconds.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
    this.namespaces = new NamespacesApi(this);
    this.containers = new ContainersApi(this);
    this.content = new ContentApi(this);
    this.images = new ImagesApi(this);
    this.leases = new LeasesApi(this);
    this.snapshots = new SnapshotsApi(this);
    this.diff = new DiffApi(this);
    this.tasks = new TasksApi(this);
    this.events = new EventsApi(this);
    this.introspection = new IntrospectionApi(this);
  }

  /** containerd's version, e.g. `{ version: '1.6.20~ds1', revision: '...' }`. */
  version(opts?: CallOptions): Promise<VersionInfo> {
    return this.unary('version', 'Version', {}, undefined, opts);
  }

  /** True when the daemon answers Version within `timeoutMs`. Never throws. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    try {
      await this.version({ timeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the channel; later calls fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.close();
  }

  // ---- low-level calls (public for the occasional method kukeon's helpers do not wrap) ----

  metadata(namespace: string | undefined, lease?: string): grpc.Metadata {
    const md = new grpc.Metadata();
    if (namespace) md.set('containerd-namespace', namespace);
    if (lease) md.set('containerd-lease', lease);
    return md;
  }

  private callOptions(timeoutMs: number | undefined): grpc.CallOptions {
    const t = timeoutMs ?? this.timeoutMs;
    return t > 0 && Number.isFinite(t) ? { deadline: Date.now() + t } : {};
  }

  /** One unary call of `<service>/<method>`. */
  unary<Res>(
    service: ServiceKey,
    method: string,
    request: object,
    namespace: string | undefined,
    opts: CallOptions = {},
    defaultTimeoutMs?: number,
  ): Promise<Res> {
    const def = methodDefinition(SVC[service], method);
    const once = () => this.unaryOnce<Res>(def, request, namespace, opts, defaultTimeoutMs);
    return once().catch(async (err: unknown) => {
      if (!neverSent(err) || !(await this.reconnected(opts.timeoutMs ?? defaultTimeoutMs ?? this.timeoutMs))) throw err;
      return once();
    });
  }

  /**
   * After containerd restarts, a long-lived client (kukeond) holds a channel in its reconnect backoff, and calls
   * fail at once with "No connection established" although containerd answers again: wait up to a second for the
   * channel, so the call is tried once more on the new connection. A call that failed this way never reached
   * containerd, so trying it again is safe.
   */
  private reconnected(timeoutMs: number): Promise<boolean> {
    const wait = Math.min(RECONNECT_WAIT_MS, timeoutMs > 0 && Number.isFinite(timeoutMs) ? timeoutMs : RECONNECT_WAIT_MS);
    return new Promise((resolve) => this.channel.waitForReady(Date.now() + wait, (err) => resolve(!err)));
  }

  private unaryOnce<Res>(
    def: ReturnType<typeof methodDefinition>,
    request: object,
    namespace: string | undefined,
    opts: CallOptions,
    defaultTimeoutMs: number | undefined,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new ContainerdError(grpc.status.CANCELLED, 'aborted before the call', def.path));
      let onAbort: (() => void) | undefined;
      const call = this.channel.makeUnaryRequest<unknown, unknown>(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        this.metadata(namespace, opts.lease),
        this.callOptions(opts.timeoutMs ?? defaultTimeoutMs),
        (err, res) => {
          if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
          if (err) reject(toContainerdError(err, def.path));
          else resolve(res as Res);
        },
      );
      if (opts.signal) {
        onAbort = () => call.cancel();
        opts.signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /** A server-streaming call; the stream's errors are raw gRPC errors (see `collect`). */
  serverStream<Res>(
    service: ServiceKey,
    method: string,
    request: object,
    namespace: string | undefined,
    opts: CallOptions = {},
    defaultTimeoutMs?: number,
  ): { stream: grpc.ClientReadableStream<Res>; path: string } {
    const def = methodDefinition(SVC[service], method);
    const stream = this.channel.makeServerStreamRequest<unknown, Res>(
      def.path,
      def.requestSerialize,
      def.responseDeserialize as (b: Buffer) => Res,
      request,
      this.metadata(namespace, opts.lease),
      this.callOptions(opts.timeoutMs ?? defaultTimeoutMs),
    );
    // grpc-js emits a failed status as an 'error' event: without a listener a stream nobody reads (or one that
    // was cancelled) would throw it. Readers still get it (for-await rejects).
    stream.on('error', () => undefined);
    if (opts.signal) {
      if (opts.signal.aborted) stream.cancel();
      else opts.signal.addEventListener('abort', () => stream.cancel(), { once: true });
    }
    return { stream, path: def.path };
  }

  /** Every message of a server-streaming call. */
  async collect<Res>(
    service: ServiceKey,
    method: string,
    request: object,
    namespace: string | undefined,
    opts: CallOptions = {},
    defaultTimeoutMs?: number,
  ): Promise<Res[]> {
    const { stream, path: p } = this.serverStream<Res>(service, method, request, namespace, opts, defaultTimeoutMs);
    const out: Res[] = [];
    try {
      for await (const msg of stream) out.push(msg as Res);
    } catch (err) {
      throw toContainerdError(err, p);
    }
    return out;
  }

  /** A bidi-streaming call. */
  bidi<Req, Res>(
    service: ServiceKey,
    method: string,
    namespace: string | undefined,
    opts: CallOptions = {},
    defaultTimeoutMs?: number,
  ): { stream: grpc.ClientDuplexStream<Req, Res>; path: string } {
    const def = methodDefinition(SVC[service], method);
    const stream = this.channel.makeBidiStreamRequest<Req, Res>(
      def.path,
      def.requestSerialize as (r: Req) => Buffer,
      def.responseDeserialize as (b: Buffer) => Res,
      this.metadata(namespace, opts.lease),
      this.callOptions(opts.timeoutMs ?? defaultTimeoutMs),
    );
    if (opts.signal) {
      if (opts.signal.aborted) stream.cancel();
      else opts.signal.addEventListener('abort', () => stream.cancel(), { once: true });
    }
    return { stream, path: def.path };
  }
}

type Client = ContainerdClient;

// containerd publishes an event for namespace changes, and publishing needs a namespace in the request context:
// without the header Create/Update/Delete store the change and then fail with "failed publishing event: namespace
// is required". The namespace itself is sent as the header (ctr sends its -n namespace).
export class NamespacesApi {
  constructor(private readonly c: Client) {}
  async create(name: string, labels: Labels = {}, opts?: CallOptions): Promise<Namespace> {
    return (await this.c.unary<{ namespace: Namespace }>('namespaces', 'Create', { namespace: { name, labels } }, name, opts)).namespace;
  }
  /**
   * The namespace and its labels. containerd 1.6 answers Get for any name (unknown ones with no labels), so a
   * label-less answer is checked against List and an unknown namespace fails with NOT_FOUND.
   */
  async get(name: string, opts?: CallOptions): Promise<Namespace> {
    const ns = (await this.c.unary<{ namespace: Namespace }>('namespaces', 'Get', { name }, undefined, opts)).namespace;
    if (Object.keys(ns.labels ?? {}).length === 0 && !(await this.list('', opts)).some((n) => n.name === name)) {
      throw new ContainerdError(
        grpc.status.NOT_FOUND,
        `namespace "${name}": not found`,
        '/containerd.services.namespaces.v1.Namespaces/Get',
      );
    }
    return ns;
  }
  async list(filter = '', opts?: CallOptions): Promise<Namespace[]> {
    return (await this.c.unary<{ namespaces: Namespace[] }>('namespaces', 'List', { filter }, undefined, opts)).namespaces;
  }
  /**
   * Sets labels. Without `paths` the namespace's labels are replaced by `labels`; with paths
   * (`labels.<key>`) only those keys change (a key missing from `labels` is removed).
   */
  async update(name: string, labels: Labels, paths?: string[], opts?: CallOptions): Promise<Namespace> {
    const req = { namespace: { name, labels }, update_mask: paths ? { paths } : null };
    return (await this.c.unary<{ namespace: Namespace }>('namespaces', 'Update', req, name, opts)).namespace;
  }
  /** Fails with FAILED_PRECONDITION while the namespace still holds containers, images, content, snapshots or leases. */
  async delete(name: string, opts?: CallOptions): Promise<void> {
    await this.c.unary('namespaces', 'Delete', { name }, name, opts);
  }
}

export class ContainersApi {
  constructor(private readonly c: Client) {}
  async create(ns: string, container: ContainerInput, opts?: CallOptions): Promise<Container> {
    const req = { container: containerMessage(container) };
    return (await this.c.unary<{ container: Container }>('containers', 'Create', req, ns, opts)).container;
  }
  async get(ns: string, id: string, opts?: CallOptions): Promise<Container> {
    return (await this.c.unary<{ container: Container }>('containers', 'Get', { id }, ns, opts)).container;
  }
  /** filters: containerd filter expressions, e.g. `labels."kukeon.io/cell"==web` (any of them matches). */
  async list(ns: string, filters: string[] = [], opts?: CallOptions): Promise<Container[]> {
    return (await this.c.unary<{ containers: Container[] }>('containers', 'List', { filters }, ns, opts)).containers;
  }
  /**
   * paths: `labels`, `labels.<key>`, `spec`, `image`, `snapshotkey`, `extensions`, `extensions.<key>`. Without
   * paths, the fields present in `container` are replaced (never the ones left out, which containerd would clear).
   */
  async update(ns: string, container: ContainerInput, paths?: string[], opts?: CallOptions): Promise<Container> {
    const fields: [keyof ContainerInput, string][] = [
      ['labels', 'labels'],
      ['spec', 'spec'],
      ['image', 'image'],
      ['snapshot_key', 'snapshotkey'],
      ['extensions', 'extensions'],
    ];
    const mask = paths ?? fields.filter(([k]) => container[k] !== undefined).map(([, p]) => p);
    if (mask.length === 0) throw new Error(`containers.update ${container.id}: nothing to update`);
    const req = { container: containerMessage(container), update_mask: { paths: mask } };
    return (await this.c.unary<{ container: Container }>('containers', 'Update', req, ns, opts)).container;
  }
  async delete(ns: string, id: string, opts?: CallOptions): Promise<void> {
    await this.c.unary('containers', 'Delete', { id }, ns, opts);
  }
}

function containerMessage(c: ContainerInput): object {
  return {
    id: c.id,
    labels: c.labels ?? {},
    image: c.image ?? '',
    runtime: c.runtime ?? { name: RUNC_V2_RUNTIME },
    spec: c.spec === undefined ? null : isAny(c.spec) ? c.spec : specAny(c.spec),
    snapshotter: c.snapshotter ?? '',
    snapshot_key: c.snapshot_key ?? '',
    extensions: c.extensions ?? {},
  };
}

interface WriteResponse {
  action: string;
  offset: string;
  total: string;
  digest: string;
}

export class ContentApi {
  constructor(private readonly c: Client) {}
  async info(ns: string, digest: string, opts?: CallOptions): Promise<ContentInfo> {
    return (await this.c.unary<{ info: ContentInfo }>('content', 'Info', { digest }, ns, opts)).info;
  }
  /** Info, or undefined when the blob is not in the namespace. */
  async stat(ns: string, digest: string, opts?: CallOptions): Promise<ContentInfo | undefined> {
    try {
      return await this.info(ns, digest, opts);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
  async list(ns: string, filters: string[] = [], opts?: CallOptions): Promise<ContentInfo[]> {
    const pages = await this.c.collect<{ info: ContentInfo[] }>('content', 'List', { filters }, ns, opts);
    return pages.flatMap((p) => p.info);
  }
  /** Sets labels; paths default to `labels.<key>` for every key given (an empty value removes the label). */
  async update(ns: string, digest: string, labels: Labels, paths?: string[], opts?: CallOptions): Promise<ContentInfo> {
    const req = { info: { digest, labels }, update_mask: { paths: paths ?? Object.keys(labels).map((k) => `labels.${k}`) } };
    return (await this.c.unary<{ info: ContentInfo }>('content', 'Update', req, ns, opts)).info;
  }
  async delete(ns: string, digest: string, opts?: CallOptions): Promise<void> {
    await this.c.unary('content', 'Delete', { digest }, ns, opts);
  }
  /** Abandons an unfinished write. */
  async abort(ns: string, ref: string, opts?: CallOptions): Promise<void> {
    await this.c.unary('content', 'Abort', { ref }, ns, opts);
  }
  /** The blob's chunks as they arrive (size 0 = to the end). */
  async *readChunks(
    ns: string,
    digest: string,
    range: { offset?: number; size?: number } = {},
    opts?: CallOptions,
  ): AsyncGenerator<Buffer> {
    const { stream, path: p } = this.c.serverStream<{ offset: string; data: Buffer }>(
      'content',
      'Read',
      { digest, offset: range.offset ?? 0, size: range.size ?? 0 },
      ns,
      opts,
      0,
    );
    try {
      for await (const msg of stream) yield (msg as { data: Buffer }).data;
    } catch (err) {
      throw toContainerdError(err, p);
    } finally {
      stream.cancel();
    }
  }
  /** The whole blob (or a range of it). */
  async read(ns: string, digest: string, range: { offset?: number; size?: number } = {}, opts?: CallOptions): Promise<Buffer> {
    const parts: Buffer[] = [];
    const timeoutMs = opts?.timeoutMs ?? this.c.timeoutMs;
    for await (const b of this.readChunks(ns, digest, range, { ...opts, timeoutMs })) parts.push(b);
    return Buffer.concat(parts);
  }
  async readJson<T = unknown>(ns: string, digest: string, opts?: CallOptions): Promise<T> {
    return JSON.parse((await this.read(ns, digest, {}, opts)).toString('utf8')) as T;
  }
  /**
   * Writes a blob with containerd's Write session: STAT (ref, total, expected) → WRITE chunks (offset, data) →
   * COMMIT (total, expected, labels); each message gets one response. A blob that is already present
   * (ALREADY_EXISTS at any step) counts as success with `existed: true`; it is then added to the call's lease.
   */
  async write(ns: string, input: ContentWriteInput, opts: CallOptions = {}): Promise<ContentWriteResult> {
    const total = Buffer.isBuffer(input.data) ? input.data.length : input.size;
    if (total === undefined) throw new Error('content.write: size is required when data is not a Buffer');
    const ref = input.ref ?? `kukeon-${input.digest.replace(/[^A-Za-z0-9]/g, '-').slice(0, 80)}-${randomId()}`;
    // a local socket moves well over 10 MiB/s: allow the default deadline plus 1 s per 10 MiB
    const timeoutMs = opts.timeoutMs ?? (this.c.timeoutMs > 0 ? this.c.timeoutMs + Math.ceil(total / (10 << 20)) * 1000 : 0);
    const { stream, path: p } = this.c.bidi<object, WriteResponse>('content', 'Write', ns, { ...opts, timeoutMs });
    const responses = new ResponseQueue<WriteResponse>(stream);
    const send = (msg: object): Promise<WriteResponse> => {
      stream.write(msg);
      return responses.next();
    };
    let written = 0;
    try {
      const stat = await send({ action: 'STAT', ref, total, expected: input.digest });
      void stat; // a resumable offset is ignored: the first WRITE at offset 0 truncates any leftover
      for await (const chunk of chunksOf(input.data)) {
        const r = await send({ action: 'WRITE', ref, offset: written, data: chunk });
        written += chunk.length;
        if (Number(r.offset) !== written)
          throw new Error(`content.write ${input.digest}: containerd is at offset ${r.offset}, expected ${written}`);
      }
      if (written !== total) throw new Error(`content.write ${input.digest}: got ${written} bytes of data, size says ${total}`);
      const done = await send({ action: 'COMMIT', ref, total, expected: input.digest, offset: written, labels: input.labels ?? {} });
      stream.end();
      return { digest: done.digest || input.digest, size: total, existed: false };
    } catch (err) {
      stream.cancel();
      if (isAlreadyExists(err)) return { digest: input.digest, size: total, existed: true };
      const e = toContainerdError(err, p);
      await this.abort(ns, ref, { timeoutMs: 5000 }).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Like `write`, but resumes an unfinished ingest of the same `ref` (a stable one, e.g. per digest): STAT
   * tells how many bytes containerd already has, `open(offset)` supplies the rest. A failed write keeps the
   * ingest for the next attempt (it is collected with the lease it was made under).
   */
  async writeResumable(
    ns: string,
    input: { digest: string; size: number; ref: string; labels?: Labels; open: (offset: number) => AsyncIterable<Buffer | Uint8Array> },
    opts: CallOptions = {},
  ): Promise<ContentWriteResult & { resumedAt: number }> {
    const total = input.size;
    const timeoutMs = opts.timeoutMs ?? 0; // network-paced: the caller's deadline or none
    const { stream, path: p } = this.c.bidi<object, WriteResponse>('content', 'Write', ns, { ...opts, timeoutMs });
    const responses = new ResponseQueue<WriteResponse>(stream);
    const send = (msg: object): Promise<WriteResponse> => {
      stream.write(msg);
      return responses.next();
    };
    let resumedAt = 0;
    try {
      const stat = await send({ action: 'STAT', ref: input.ref, total, expected: input.digest });
      resumedAt = Number(stat.offset) > 0 && Number(stat.offset) <= total ? Number(stat.offset) : 0;
      let written = resumedAt;
      // offset == total: containerd has every byte (an unfinished commit, or a blob another namespace holds,
      // which containerd shares): commit without fetching anything
      for await (const chunk of chunksOf(resumedAt < total ? input.open(resumedAt) : [])) {
        const r = await send({ action: 'WRITE', ref: input.ref, offset: written, data: chunk });
        written += chunk.length;
        if (Number(r.offset) !== written)
          throw new Error(`content.write ${input.digest}: containerd is at offset ${r.offset}, expected ${written}`);
      }
      if (written !== total) throw new Error(`content.write ${input.digest}: got ${written} bytes of data, size says ${total}`);
      const done = await send({
        action: 'COMMIT',
        ref: input.ref,
        total,
        expected: input.digest,
        offset: written,
        labels: input.labels ?? {},
      });
      stream.end();
      return { digest: done.digest || input.digest, size: total, existed: false, resumedAt };
    } catch (err) {
      stream.cancel();
      if (isAlreadyExists(err)) return { digest: input.digest, size: total, existed: true, resumedAt };
      const e = toContainerdError(err, p);
      // a bad commit (digest mismatch) must not be resumed: start over next time
      if (/digest|size/i.test(e.message) && /commit|unexpected/i.test(e.message))
        await this.abort(ns, input.ref, { timeoutMs: 5000 }).catch(() => undefined);
      throw e;
    }
  }
}

export class ImagesApi {
  constructor(private readonly c: Client) {}
  async create(ns: string, image: ImageInput, opts?: CallOptions): Promise<Image> {
    const req = { image: { name: image.name, labels: image.labels ?? {}, target: image.target } };
    return (await this.c.unary<{ image: Image }>('images', 'Create', req, ns, opts)).image;
  }
  async get(ns: string, name: string, opts?: CallOptions): Promise<Image> {
    const res = await this.c.unary<{ image: Image | null }>('images', 'Get', { name }, ns, opts);
    if (!res.image)
      throw new ContainerdError(grpc.status.NOT_FOUND, `image "${name}": not found`, '/containerd.services.images.v1.Images/Get');
    return res.image;
  }
  async list(ns: string, filters: string[] = [], opts?: CallOptions): Promise<Image[]> {
    return (await this.c.unary<{ images: Image[] }>('images', 'List', { filters }, ns, opts)).images;
  }
  /** paths: `labels`, `labels.<key>`, `target`, `annotations`; none = labels and target. */
  async update(ns: string, image: ImageInput, paths?: string[], opts?: CallOptions): Promise<Image> {
    const req = { image: { name: image.name, labels: image.labels ?? {}, target: image.target }, update_mask: paths ? { paths } : null };
    return (await this.c.unary<{ image: Image }>('images', 'Update', req, ns, opts)).image;
  }
  /** Creates the image, or updates its target and the given labels when it exists. */
  async put(ns: string, image: ImageInput, opts?: CallOptions): Promise<Image> {
    try {
      return await this.create(ns, image, opts);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      return this.update(ns, image, ['target', ...Object.keys(image.labels ?? {}).map((k) => `labels.${k}`)], opts);
    }
  }
  /** sync: wait for the garbage collection that follows. */
  async delete(ns: string, name: string, sync = false, opts?: CallOptions): Promise<void> {
    await this.c.unary('images', 'Delete', { name, sync }, ns, opts);
  }
}

export interface LeaseCreateInput {
  /** Lease id; a unique `kukeon-<random>` when left out. */
  id?: string;
  labels?: Labels;
  /** Sets `containerd.io/gc.expire` to now + this many ms. */
  expireInMs?: number;
}

export class LeasesApi {
  constructor(private readonly c: Client) {}
  async create(ns: string, input: LeaseCreateInput = {}, opts?: CallOptions): Promise<Lease> {
    const labels: Labels = { ...(input.labels ?? {}) };
    if (input.expireInMs !== undefined) labels[GC_EXPIRE_LABEL] = rfc3339(new Date(Date.now() + input.expireInMs));
    const res = await this.c.unary<{ lease: Lease }>('leases', 'Create', { id: input.id ?? `kukeon-${randomId()}`, labels }, ns, opts);
    return res.lease;
  }
  /** sync: wait for the garbage collection that follows. */
  async delete(ns: string, id: string, sync = false, opts?: CallOptions): Promise<void> {
    await this.c.unary('leases', 'Delete', { id, sync }, ns, opts);
  }
  async list(ns: string, filters: string[] = [], opts?: CallOptions): Promise<Lease[]> {
    return (await this.c.unary<{ leases: Lease[] }>('leases', 'List', { filters }, ns, opts)).leases;
  }
  async addResource(ns: string, leaseId: string, resource: LeaseResource, opts?: CallOptions): Promise<void> {
    await this.c.unary('leases', 'AddResource', { id: leaseId, resource }, ns, opts);
  }
  async deleteResource(ns: string, leaseId: string, resource: LeaseResource, opts?: CallOptions): Promise<void> {
    await this.c.unary('leases', 'DeleteResource', { id: leaseId, resource }, ns, opts);
  }
  async listResources(ns: string, leaseId: string, opts?: CallOptions): Promise<LeaseResource[]> {
    return (await this.c.unary<{ resources: LeaseResource[] }>('leases', 'ListResources', { id: leaseId }, ns, opts)).resources;
  }
}

export class SnapshotsApi {
  constructor(private readonly c: Client) {}
  /** An active (writable) snapshot `key` on top of `parent` (a committed name, '' for none); returns its mounts. */
  async prepare(ns: string, snapshotter: string, key: string, parent = '', labels: Labels = {}, opts?: CallOptions): Promise<Mount[]> {
    return (await this.c.unary<{ mounts: Mount[] }>('snapshots', 'Prepare', { snapshotter, key, parent, labels }, ns, opts)).mounts;
  }
  /** A read-only view of `parent`. */
  async view(ns: string, snapshotter: string, key: string, parent = '', labels: Labels = {}, opts?: CallOptions): Promise<Mount[]> {
    return (await this.c.unary<{ mounts: Mount[] }>('snapshots', 'View', { snapshotter, key, parent, labels }, ns, opts)).mounts;
  }
  async mounts(ns: string, snapshotter: string, key: string, opts?: CallOptions): Promise<Mount[]> {
    return (await this.c.unary<{ mounts: Mount[] }>('snapshots', 'Mounts', { snapshotter, key }, ns, opts)).mounts;
  }
  async commit(ns: string, snapshotter: string, name: string, key: string, labels: Labels = {}, opts?: CallOptions): Promise<void> {
    await this.c.unary('snapshots', 'Commit', { snapshotter, name, key, labels }, ns, opts);
  }
  async remove(ns: string, snapshotter: string, key: string, opts?: CallOptions): Promise<void> {
    await this.c.unary('snapshots', 'Remove', { snapshotter, key }, ns, opts);
  }
  async stat(ns: string, snapshotter: string, key: string, opts?: CallOptions): Promise<SnapshotInfo> {
    return (await this.c.unary<{ info: SnapshotInfo }>('snapshots', 'Stat', { snapshotter, key }, ns, opts)).info;
  }
  /** Stat, or undefined when there is no such snapshot. */
  async tryStat(ns: string, snapshotter: string, key: string, opts?: CallOptions): Promise<SnapshotInfo | undefined> {
    try {
      return await this.stat(ns, snapshotter, key, opts);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
  async list(ns: string, snapshotter: string, filters: string[] = [], opts?: CallOptions): Promise<SnapshotInfo[]> {
    const pages = await this.c.collect<{ info: SnapshotInfo[] }>('snapshots', 'List', { snapshotter, filters }, ns, opts);
    return pages.flatMap((p) => p.info);
  }
}

export class DiffApi {
  constructor(private readonly c: Client) {}
  /** Applies the layer blob `diff` (from the content store) onto `mounts`; returns the uncompressed descriptor (digest = diff id). */
  async apply(ns: string, diff: Descriptor, mounts: Mount[], opts?: CallOptions): Promise<Descriptor> {
    const req = { diff: { ...diff, annotations: diff.annotations ?? {} }, mounts, payloads: {} };
    // layers can be large: allow the default deadline four times over
    const res = await this.c.unary<{ applied: Descriptor }>(
      'diff',
      'Apply',
      req,
      ns,
      opts,
      this.c.timeoutMs > 0 ? this.c.timeoutMs * 4 : 0,
    );
    return res.applied;
  }
}

export class TasksApi {
  constructor(private readonly c: Client) {}
  async create(ns: string, input: TaskCreateInput, opts?: CallOptions): Promise<TaskCreateResult> {
    const req = {
      container_id: input.container_id,
      rootfs: input.rootfs ?? [],
      stdin: input.stdin ?? '',
      stdout: input.stdout ?? '',
      stderr: input.stderr ?? '',
      terminal: input.terminal ?? false,
      options: input.options ?? null,
      runtime_path: input.runtime_path ?? '',
    };
    return this.c.unary<TaskCreateResult>('tasks', 'Create', req, ns, opts);
  }
  /** Starts the task (or the exec `execId`); returns its pid. */
  async start(ns: string, containerId: string, execId = '', opts?: CallOptions): Promise<number> {
    return (await this.c.unary<{ pid: number }>('tasks', 'Start', { container_id: containerId, exec_id: execId }, ns, opts)).pid;
  }
  async get(ns: string, containerId: string, execId = '', opts?: CallOptions): Promise<Process> {
    return (await this.c.unary<{ process: Process }>('tasks', 'Get', { container_id: containerId, exec_id: execId }, ns, opts)).process;
  }
  async list(ns: string, filter = '', opts?: CallOptions): Promise<Process[]> {
    return (await this.c.unary<{ tasks: Process[] }>('tasks', 'List', { filter }, ns, opts)).tasks;
  }
  /** Sends a signal (number or name) to the init process, to `exec_id`, or with `all` to every process of the task. */
  async kill(
    ns: string,
    containerId: string,
    signal: number | NodeJS.Signals = 'SIGTERM',
    extra: { exec_id?: string; all?: boolean } = {},
    opts?: CallOptions,
  ): Promise<void> {
    const req = { container_id: containerId, exec_id: extra.exec_id ?? '', signal: signalNumber(signal), all: extra.all ?? false };
    await this.c.unary('tasks', 'Kill', req, ns, opts);
  }
  /** Deletes a stopped task (the shim goes away); returns its exit status. */
  async delete(ns: string, containerId: string, opts?: CallOptions): Promise<TaskDeleteResult> {
    return this.c.unary<TaskDeleteResult>('tasks', 'Delete', { container_id: containerId }, ns, opts);
  }
  /** Blocks until the process exits. No deadline unless `opts.timeoutMs` is given. */
  async wait(ns: string, containerId: string, execId = '', opts?: CallOptions): Promise<TaskWaitResult> {
    return this.c.unary<TaskWaitResult>('tasks', 'Wait', { container_id: containerId, exec_id: execId }, ns, opts, 0);
  }
  /** Adds the process `execId` (not started) to the task; `process` is the runtime spec's Process. */
  async exec(ns: string, input: ExecProcessInput, opts?: CallOptions): Promise<void> {
    const req = {
      container_id: input.container_id,
      exec_id: input.exec_id,
      stdin: input.stdin ?? '',
      stdout: input.stdout ?? '',
      stderr: input.stderr ?? '',
      terminal: input.terminal ?? false,
      spec: { type_url: OCI_PROCESS_TYPE_URL, value: Buffer.from(JSON.stringify(input.process)) },
    };
    await this.c.unary('tasks', 'Exec', req, ns, opts);
  }
  /** Removes an exec'd process that has exited; returns its exit status. */
  async deleteProcess(ns: string, containerId: string, execId: string, opts?: CallOptions): Promise<TaskDeleteResult> {
    return this.c.unary<TaskDeleteResult>('tasks', 'DeleteProcess', { container_id: containerId, exec_id: execId }, ns, opts);
  }
  /** Sets the size of the console of the task (`execId` '') or of an exec'd process. */
  async resizePty(
    ns: string,
    containerId: string,
    execId: string,
    size: { width: number; height: number },
    opts?: CallOptions,
  ): Promise<void> {
    await this.c.unary('tasks', 'ResizePty', { container_id: containerId, exec_id: execId, ...size }, ns, opts);
  }
  /** Closes the process's stdin (its reader sees EOF). */
  async closeStdin(ns: string, containerId: string, execId: string, opts?: CallOptions): Promise<void> {
    await this.c.unary('tasks', 'CloseIO', { container_id: containerId, exec_id: execId, stdin: true }, ns, opts);
  }
  /** Gives the running task new cgroup limits (Tasks.Update: the shim runs `runc update`). */
  async update(ns: string, containerId: string, resources: OciLinuxResources, opts?: CallOptions): Promise<void> {
    const any = { type_url: OCI_RESOURCES_TYPE_URL, value: Buffer.from(JSON.stringify(resources)) };
    await this.c.unary('tasks', 'Update', { container_id: containerId, resources: any }, ns, opts);
  }
  /** The task's processes (Tasks.ListPids). */
  async pids(ns: string, containerId: string, opts?: CallOptions): Promise<ProcessInfo[]> {
    return (await this.c.unary<{ processes: ProcessInfo[] }>('tasks', 'ListPids', { container_id: containerId }, ns, opts)).processes;
  }
}

/** Decodes an event envelope; payloads of types declared in kukeon's protos are decoded too. */
export function decodeEnvelope(env: Envelope): ContainerdEvent {
  const typeUrl = env.event?.type_url ?? '';
  const type = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  let payload: Record<string, unknown> | undefined;
  const t = type ? messageType(type) : undefined;
  if (t && env.event) {
    try {
      payload = t.deserialize(env.event.value) as Record<string, unknown>;
    } catch {
      payload = undefined;
    }
  }
  return { timestamp: timestampToDate(env.timestamp), namespace: env.namespace, topic: env.topic, type, payload, raw: env.event };
}

export class EventsApi {
  constructor(private readonly c: Client) {}
  /**
   * Subscribes to containerd's event stream (no namespace header; filter with e.g. `namespace==kukeon`,
   * `topic~="/tasks/"`). The subscription starts at once; events are buffered until iterated.
   */
  subscribe(filters: string[] = [], opts: Omit<CallOptions, 'lease'> = {}): EventSubscription {
    const { stream, path: p } = this.c.serverStream<Envelope>('events', 'Subscribe', { filters }, undefined, opts, 0);
    let cancelled = false;
    return {
      cancel(): void {
        cancelled = true;
        stream.cancel();
      },
      async *[Symbol.asyncIterator](): AsyncGenerator<ContainerdEvent> {
        try {
          for await (const env of stream) yield decodeEnvelope(env as Envelope);
        } catch (err) {
          if (cancelled && grpcCodeOf(err) === grpc.status.CANCELLED) return;
          throw toContainerdError(err, p);
        }
      },
    };
  }
}

export class IntrospectionApi {
  constructor(private readonly c: Client) {}
  /** containerd's plugins with their status (init_err set when a plugin failed or was skipped). */
  async plugins(filters: string[] = [], opts?: CallOptions): Promise<IntrospectionPlugin[]> {
    return (await this.c.unary<{ plugins: IntrospectionPlugin[] }>('introspection', 'Plugins', { filters }, undefined, opts)).plugins;
  }
}
