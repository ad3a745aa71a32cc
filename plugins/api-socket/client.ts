// ControllerApi over kukeond's socket: what `kuke` uses when it talks to the daemon. It loads only Node's http2
// (h2-channel.ts) and the wire module (no plugins, no ajv, no protos, not even grpc-js), and never falls back to in-process: an unreachable daemon is
// KUKEON_E_DAEMON within 2 s, naming the socket and the remedies.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isKukeonError, KukeonError } from '../../sdk';
import type {
  ApplyItem,
  ApplyReport,
  ApplyRequest,
  CallOptions,
  CellRequest,
  ControllerApi,
  CreateRequest,
  DeleteDocumentsRequest,
  DeleteRequest,
  DescribeRequest,
  DescribeResult,
  DoctorReport,
  GetRequest,
  ImageRefRequest,
  LogRequest,
  PluginStatus,
  ProgressEvent,
  PullEvent,
  PullRequest,
  PurgeRequest,
  RealmRequest,
  RefreshReport,
  RemovedItem,
  StopRequest,
  VersionInfo,
  WaitEvent,
  WaitRequest,
  WatchEvent,
  WatchRequest,
} from '../../sdk';
import type { AnyDoc, SecretDeleteRequest, SecretDoc, SecretListRequest } from '../../sdk';
import type { AttachRequest, AttachResult, ExecRequest, ExecResult, ImageSummary, SessionIO } from '../../sdk';
import { decodeFrame, encodeFrame, STDERR, STDIN } from './frame';
import type { Frame } from './frame';
import { H2Channel } from './h2-channel';
import { groupName } from '../../sdk';
import type { GrpcError } from './h2-channel';
import { decodeBytes, decodeError, decodeJson, encodeBytes, encodeJson, ERROR_METADATA_KEY, GrpcStatus, methodPath } from './wire';
import type { MutationFrame, Verb } from './wire';

const CONNECT_TIMEOUT_MS = 2_000;
/** A unary call's deadline, and how long a stream may stay silent, before the daemon counts as unresponsive. */
const CALL_TIMEOUT_MS = 60_000;
const DEFAULT_STOP_MS = 10_000;
/** A session has no idle limit, so a daemon that hangs is found by pings: one every this often, answered within as long. */
const SESSION_KEEPALIVE_MS = 20_000;
/** stdin leaves in frames of at most this many bytes (an input may hand over any amount at once). */
const MAX_FRAME_DATA = 64 * 1024;

export interface SocketClientOptions {
  /** How often a session pings the daemon, and how long a ping may go unanswered (default 20 s). */
  sessionKeepaliveMs?: number;
}

export class SocketClient implements ControllerApi {
  private client: H2Channel | undefined;
  private probed: Promise<void> | undefined;

  constructor(
    readonly socketPath: string,
    private readonly options: SocketClientOptions = {},
  ) {}

  /** Fails fast and clearly when nothing serves the socket, before gRPC's own reconnect loop starts. */
  private ready(): Promise<void> {
    this.probed ??= new Promise<void>((resolve, reject) => {
      const s = net.connect(this.socketPath);
      const timer = setTimeout(() => {
        s.destroy();
        reject(this.unreachable(`no answer on ${this.socketPath} within ${CONNECT_TIMEOUT_MS / 1000} s`));
      }, CONNECT_TIMEOUT_MS);
      s.once('connect', () => {
        clearTimeout(timer);
        s.destroy();
        resolve();
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (err.code === 'EACCES' || err.code === 'EPERM') {
          const group = socketGroup(this.socketPath);
          reject(
            new KukeonError(
              'KUKEON_E_DAEMON',
              `permission denied on ${this.socketPath}: join the group ${group} (sudo usermod -aG ${group} $USER, then log in again), or run as root`,
            ),
          );
        } else if (err.code === 'ENOENT') reject(this.unreachable(`no kukeond socket at ${this.socketPath}`));
        else if (err.code === 'ECONNREFUSED') reject(this.unreachable(`kukeond is not running (nothing accepts on ${this.socketPath})`));
        else reject(this.unreachable(`cannot connect to ${this.socketPath}: ${err.message}`));
      });
    });
    return this.probed;
  }

  private unreachable(what: string): KukeonError {
    return new KukeonError(
      'KUKEON_E_DAEMON',
      `${what}; start it (kukeond, or kuke init), or run in-process with --no-daemon or KUKEON_NO_DAEMON=true`,
    );
  }

  private channel(): H2Channel {
    this.client ??= new H2Channel(this.socketPath);
    return this.client;
  }

  close(): void {
    this.client?.close();
  }

  /** A gRPC error as the KukeonError the daemon sent, or as what the transport says. */
  private errorOf(err: GrpcError): KukeonError {
    if (typeof err?.code !== 'number') return err as unknown as KukeonError; // not from the transport
    const sent = decodeError(err.metadata?.get(ERROR_METADATA_KEY));
    if (sent) return sent;
    if (err.code === GrpcStatus.CANCELLED) return new KukeonError('KUKEON_E_CANCELLED');
    if (err.code === GrpcStatus.DEADLINE_EXCEEDED) {
      return new KukeonError('KUKEON_E_DAEMON', `kukeond at ${this.socketPath} did not answer in time`);
    }
    if (err.code === GrpcStatus.UNAVAILABLE) return this.unreachable(`kukeond at ${this.socketPath} went away (${err.details})`);
    return new KukeonError('KUKEON_E_DAEMON', `kukeond at ${this.socketPath}: ${err.details || err.message}`);
  }

  private async unary<T>(verb: Verb, req: unknown, opts: CallOptions = {}, extraMs = 0): Promise<T> {
    await this.ready();
    try {
      const reply = await this.channel().unary(methodPath(verb), encodeJson(req ?? {}), {
        deadline: Date.now() + CALL_TIMEOUT_MS + extraMs,
        signal: opts.signal,
      });
      return decodeJson(reply) as T;
    } catch (err) {
      throw this.errorOf(err as GrpcError);
    }
  }

  /** A server stream of Buffers, with an idle limit: silence for longer than `idleMs` cancels it. */
  private async *serverStream(verb: Verb, req: unknown, opts: CallOptions, idleMs: number | undefined): AsyncIterable<Buffer> {
    await this.ready();
    const ac = new AbortController();
    const forward = () => ac.abort();
    opts.signal?.addEventListener('abort', forward, { once: true });
    if (opts.signal?.aborted) ac.abort();
    let idle: NodeJS.Timeout | undefined;
    let timedOut = false;
    const arm = () => {
      if (idleMs === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        timedOut = true;
        ac.abort();
      }, idleMs);
    };
    arm();
    try {
      for await (const msg of this.channel().serverStream(methodPath(verb), encodeJson(req ?? {}), { signal: ac.signal })) {
        arm();
        yield msg;
      }
    } catch (err) {
      if (timedOut) throw new KukeonError('KUKEON_E_DAEMON', `kukeond at ${this.socketPath} sent nothing for ${idleMs! / 1000} s`);
      if (opts.signal?.aborted) throw new KukeonError('KUKEON_E_CANCELLED');
      throw this.errorOf(err as GrpcError);
    } finally {
      clearTimeout(idle);
      opts.signal?.removeEventListener('abort', forward);
    }
  }

  /** A mutation: progress frames go to `onProgress`, the result frame is returned. */
  private async mutation<T>(verb: Verb, req: unknown, opts: CallOptions = {}, extraMs = 0): Promise<T> {
    let result: { value: unknown } | undefined;
    for await (const msg of this.serverStream(verb, req, opts, CALL_TIMEOUT_MS + extraMs)) {
      const frame = decodeJson(msg) as MutationFrame;
      if (frame.result !== undefined) result = { value: frame.result };
      else if (frame.progress && (frame.progress as ProgressEvent).kind !== 'heartbeat') opts.onProgress?.(frame.progress as ProgressEvent);
    }
    if (!result) throw new KukeonError('KUKEON_E_DAEMON', `kukeond at ${this.socketPath} ended ${verb} without a result`);
    return result.value as T;
  }

  private async *items<T>(verb: Verb, req: unknown, opts: CallOptions = {}): AsyncIterable<T> {
    for await (const msg of this.serverStream(verb, req, opts, undefined)) yield decodeJson(msg) as T;
  }

  version(opts?: CallOptions): Promise<VersionInfo> {
    return this.unary('version', {}, opts);
  }
  apply(req: ApplyRequest, opts?: CallOptions): Promise<ApplyReport> {
    return this.mutation('apply', req, opts);
  }
  create(req: CreateRequest, opts?: CallOptions): Promise<ApplyItem> {
    return this.mutation('create', req, opts);
  }
  get(req: GetRequest, opts?: CallOptions): Promise<AnyDoc[]> {
    return this.unary('get', req, opts);
  }
  describe(req: DescribeRequest, opts?: CallOptions): Promise<DescribeResult> {
    return this.unary('describe', req, opts);
  }
  delete(req: DeleteRequest, opts?: CallOptions): Promise<RemovedItem[]> {
    return this.mutation('delete', req, opts);
  }
  deleteDocuments(req: DeleteDocumentsRequest, opts?: CallOptions): Promise<RemovedItem[]> {
    return this.mutation('deleteDocuments', req, opts);
  }
  purge(req: PurgeRequest, opts?: CallOptions): Promise<RemovedItem[]> {
    return this.mutation('purge', req, opts);
  }
  async start(req: CellRequest, opts?: CallOptions): Promise<void> {
    await this.unary('start', req, opts);
  }
  async stop(req: StopRequest, opts?: CallOptions): Promise<void> {
    await this.unary('stop', req, opts, req.timeoutMs ?? DEFAULT_STOP_MS);
  }
  async kill(req: CellRequest, opts?: CallOptions): Promise<void> {
    await this.unary('kill', req, opts);
  }
  async restart(req: StopRequest, opts?: CallOptions): Promise<void> {
    await this.unary('restart', req, opts, req.timeoutMs ?? DEFAULT_STOP_MS);
  }
  refresh(opts?: CallOptions): Promise<RefreshReport> {
    return this.mutation('refresh', {}, opts);
  }
  async loadImage(req: RealmRequest, archive: AsyncIterable<Uint8Array>, opts: CallOptions = {}): Promise<ImageSummary[]> {
    await this.ready();
    // the first message is the JSON request, the rest the archive's bytes
    const messages = (async function* () {
      yield encodeBytes(Buffer.from(JSON.stringify(req)));
      for await (const chunk of archive) yield encodeBytes(chunk);
    })();
    try {
      return decodeJson(await this.channel().clientStream(methodPath('loadImage'), messages, { signal: opts.signal })) as ImageSummary[];
    } catch (err) {
      throw this.errorOf(err as GrpcError);
    }
  }
  listImages(req: RealmRequest, opts?: CallOptions): Promise<ImageSummary[]> {
    return this.unary('listImages', req, opts);
  }
  pullImage(req: PullRequest, opts?: CallOptions): AsyncIterable<PullEvent> {
    return this.items<PullEvent>('pullImage', req, opts);
  }
  async removeImage(req: ImageRefRequest, opts?: CallOptions): Promise<void> {
    await this.unary('removeImage', req, opts);
  }
  pruneImages(req: RealmRequest, opts?: CallOptions): Promise<string[]> {
    return this.unary('pruneImages', req, opts);
  }
  async *logs(req: LogRequest, opts: CallOptions = {}): AsyncIterable<Uint8Array> {
    for await (const msg of this.serverStream('logs', req, opts, undefined)) yield decodeBytes(msg);
  }
  wait(req: WaitRequest, opts?: CallOptions): AsyncIterable<WaitEvent> {
    return this.items<WaitEvent>('wait', req, opts);
  }
  watch(req: WatchRequest, opts?: CallOptions): AsyncIterable<WatchEvent> {
    return this.items<WatchEvent>('watch', req, opts);
  }
  doctor(opts?: CallOptions): Promise<DoctorReport> {
    return this.unary('doctor', {}, opts);
  }
  plugins(opts?: CallOptions): Promise<PluginStatus[]> {
    return this.unary('plugins', {}, opts);
  }
  listSecrets(req: SecretListRequest, opts?: CallOptions): Promise<SecretDoc[]> {
    return this.unary('listSecrets', req, opts);
  }
  deleteSecret(req: SecretDeleteRequest, opts?: CallOptions): Promise<RemovedItem[]> {
    return this.mutation('deleteSecret', req, opts);
  }
  /**
   * A session (exec, attach) on one bidirectional stream: the request, then `io.input` as frames; output frames go
   * to `io.output` (the next waits for its promise), and the last frame is the result. Cancelling (`opts.signal`)
   * resets the stream: the daemon then hangs up the exec'd process, or detaches.
   */
  private async session<T>(verb: 'exec' | 'attach', req: unknown, io: SessionIO, opts: CallOptions = {}): Promise<T> {
    await this.ready();
    let result: { value: unknown } | undefined;
    const input = io.input;
    const messages = (async function* () {
      yield encodeFrame({ json: req });
      if (!input) return;
      for await (const item of input) {
        if ('stdin' in item) {
          for (let i = 0; i < item.stdin.length; i += MAX_FRAME_DATA)
            yield encodeFrame({ data: item.stdin.subarray(i, i + MAX_FRAME_DATA), stream: STDIN });
        } else if ('eof' in item) yield encodeFrame({ json: { eof: true } });
        else if ('resize' in item) yield encodeFrame({ json: { resize: item.resize } });
      }
    })();
    const onMessage = (msg: Buffer): void | Promise<void> => {
      let frame: Frame;
      try {
        frame = decodeFrame(msg);
      } catch (err) {
        throw new KukeonError(
          'KUKEON_E_DAEMON',
          `kukeond at ${this.socketPath} sent ${verb} a message that is not a Frame (${(err as Error).message})`,
        );
      }
      if (frame.data?.length) return io.output({ stream: frame.stream === STDERR ? 'stderr' : 'stdout', data: frame.data });
      const control = frame.json;
      if (typeof control === 'object' && control !== null && 'result' in control) result = { value: control.result };
    };
    try {
      await this.channel().bidiStream(methodPath(verb), messages, onMessage, {
        signal: opts.signal,
        keepaliveMs: this.options.sessionKeepaliveMs ?? SESSION_KEEPALIVE_MS,
      });
    } catch (err) {
      if (opts.signal?.aborted) {
        // A detach is how an attach ends by the client's choice; the container runs on.
        if (verb === 'attach') return { detached: true } as T;
        const why = opts.signal.reason;
        throw isKukeonError(why) && why.code === 'KUKEON_E_CANCELLED' ? why : new KukeonError('KUKEON_E_CANCELLED');
      }
      throw this.errorOf(err as GrpcError); // io.output's and io.input's own errors pass through as they are
    }
    if (!result) throw new KukeonError('KUKEON_E_DAEMON', `kukeond at ${this.socketPath} ended ${verb} without a result`);
    return result.value as T;
  }
  exec(req: ExecRequest, io: SessionIO, opts?: CallOptions): Promise<ExecResult> {
    return this.session('exec', req, io, opts);
  }
  attach(req: AttachRequest, io: SessionIO, opts?: CallOptions): Promise<AttachResult> {
    return this.session('attach', req, io, opts);
  }
}

/** The group that may use the socket: its directory's group (the daemon set it), else kukeon's default. */
function socketGroup(socketPath: string): string {
  try {
    const gid = fs.statSync(path.dirname(socketPath)).gid;
    if (gid !== 0) return groupName(gid) ?? 'kukeon';
  } catch {
    // unreadable: say the default
  }
  return 'kukeon';
}
