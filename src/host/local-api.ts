// The in-process transport of ControllerApi: plain-data requests turned into the host's controller calls. The
// daemon serves this same object over its socket, so both transports run exactly this code.

import fs from 'node:fs';
import { Readable } from 'node:stream';
import { KINDS, KukeonError, kindDepth } from '../../sdk';
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
import { checkAttachRequest, checkExecRequest } from './session-requests';
import { AsyncQueue } from './async-queue';
import { checkName } from './validation/names';
import type { Host } from './host';

export const API_NAME = 'kukeon.v1';
const DEFAULT_STOP_MS = 10_000;
const LOG_POLL_MS = 200;

export class LocalApi implements ControllerApi {
  constructor(private readonly host: Host) {}

  private get c() {
    return this.host.controller;
  }

  async version(): Promise<VersionInfo> {
    return { version: this.host.version, api: API_NAME, pid: process.pid, runPath: this.host.paths.runPath };
  }

  apply(req: ApplyRequest, opts: CallOptions = {}): Promise<ApplyReport> {
    return this.c.apply(req.text, {
      onProgress: opts.onProgress,
      dryRun: req.dryRun,
      source: req.source,
      pull: req.pull,
      credentials: req.credentials,
      signal: opts.signal,
      forceSystem: req.forceSystem,
    });
  }

  create(req: CreateRequest, opts: CallOptions = {}): Promise<ApplyItem> {
    return this.c.create(req.doc, {
      pull: req.pull,
      credentials: req.credentials,
      signal: opts.signal,
      onProgress: opts.onProgress,
      allowSystem: req.forceSystem,
    });
  }

  get(req: GetRequest): Promise<AnyDoc[]> {
    return this.c.get(req);
  }

  /** The document as `get` shows it, and what the daemon's history kept (none in-process). */
  async describe(req: DescribeRequest): Promise<DescribeResult> {
    if (!KINDS.includes(req.ref?.kind) || req.ref.path?.length !== kindDepth(req.ref.kind))
      throw new KukeonError('KUKEON_E_USAGE', `describe: not a resource reference: ${JSON.stringify(req.ref)}`);
    for (const name of req.ref.path) checkName(name, `${req.ref.kind.toLowerCase()} path`);
    const [doc] = await this.c.get({ kind: req.ref.kind, scope: req.ref.path.slice(0, -1), name: req.ref.path[req.ref.path.length - 1] });
    return { doc, events: this.host.history?.eventsOf(req.ref) };
  }

  delete(req: DeleteRequest, opts: CallOptions = {}): Promise<RemovedItem[]> {
    return this.c.delete(req.ref, { cascade: req.cascade, force: req.force, forceSystem: req.forceSystem, signal: opts.signal });
  }

  deleteDocuments(req: DeleteDocumentsRequest, opts: CallOptions = {}): Promise<RemovedItem[]> {
    return this.c.deleteDocuments(req.text, {
      cascade: req.cascade,
      force: req.force,
      source: req.source,
      forceSystem: req.forceSystem,
      signal: opts.signal,
    });
  }

  purge(req: PurgeRequest, opts: CallOptions = {}): Promise<RemovedItem[]> {
    return this.c.purge(req.ref, { cascade: req.cascade, forceSystem: req.forceSystem, signal: opts.signal });
  }

  start(req: CellRequest, opts: CallOptions = {}): Promise<void> {
    return this.c.start(req.ref, { signal: opts.signal });
  }

  stop(req: StopRequest, opts: CallOptions = {}): Promise<void> {
    return this.c.stop(req.ref, { signal: 'SIGTERM', timeoutMs: req.timeoutMs ?? DEFAULT_STOP_MS }, { signal: opts.signal });
  }

  kill(req: CellRequest, opts: CallOptions = {}): Promise<void> {
    return this.c.kill(req.ref, { signal: opts.signal });
  }

  restart(req: StopRequest, opts: CallOptions = {}): Promise<void> {
    return this.c.restart(req.ref, { signal: 'SIGTERM', timeoutMs: req.timeoutMs ?? DEFAULT_STOP_MS }, { signal: opts.signal });
  }

  refresh(opts: CallOptions = {}): Promise<RefreshReport> {
    return this.c.refresh({ signal: opts.signal });
  }

  loadImage(req: RealmRequest, archive: AsyncIterable<Uint8Array>): Promise<ImageSummary[]> {
    return this.c.loadImage(req.realm, Readable.from(archive));
  }

  listImages(req: RealmRequest): Promise<ImageSummary[]> {
    return this.c.listImages(req.realm);
  }

  async *pullImage(req: PullRequest, opts: CallOptions = {}): AsyncIterable<PullEvent> {
    const events = new AsyncQueue<PullEvent>();
    this.c
      .pullImage(req.realm, req.ref, {
        platform: req.platform,
        insecure: req.insecure,
        credentials: req.credentials,
        signal: opts.signal,
        onProgress: (progress) => events.push({ kind: 'progress', progress }),
      })
      .then(
        (result) => events.end({ kind: 'done', result }),
        (err) => events.fail(err),
      );
    yield* events;
  }

  removeImage(req: ImageRefRequest): Promise<void> {
    return this.c.removeImage(req.realm, req.ref);
  }

  pruneImages(req: RealmRequest): Promise<string[]> {
    return this.c.pruneImages(req.realm);
  }

  /** Reads the log file from the start; with `follow`, keeps reading what is appended until the container exits. */
  async *logs(req: LogRequest, opts: CallOptions = {}): AsyncIterable<Uint8Array> {
    const { container, path } = await this.c.logPath(req.ref, req.container);
    let exited = !req.follow;
    let waitError: unknown;
    if (req.follow) {
      this.c.wait(req.ref, container, opts.signal).then(
        () => void (exited = true),
        (err) => {
          waitError = err;
          exited = true;
        },
      );
    }
    let offset = 0;
    for (;;) {
      const last = exited; // read once more after the exit is seen, so nothing written before it is lost
      for (const chunk of readFrom(path, offset)) {
        offset += chunk.length;
        yield chunk;
      }
      if (last || opts.signal?.aborted) break;
      await new Promise((r) => setTimeout(r, LOG_POLL_MS));
    }
    if (waitError && !opts.signal?.aborted) throw waitError;
  }

  async *wait(req: WaitRequest, opts: CallOptions = {}): AsyncIterable<WaitEvent> {
    const container = await this.c.workload(req.ref, req.container);
    const result = await this.c.wait(req.ref, container, opts.signal);
    yield { ...result, container };
  }

  async *watch(req: WatchRequest, opts: CallOptions = {}): AsyncIterable<WatchEvent> {
    const queue = new AsyncQueue<WatchEvent>();
    const under = (path: readonly string[]) => !req.scope || req.scope.every((p, i) => path[i] === p);
    const forward = (e: WatchEvent) => {
      if ((req.kinds && !req.kinds.includes(e.ref.kind)) || !under(e.ref.path)) return;
      queue.push(e);
    };
    const offStore = this.host.events.subscribe(forward);
    // container exits, from the runtime (when one is loaded)
    const offExits =
      this.host.services
        .get('runtime.events')
        ?.subscribe((x) =>
          forward({ type: 'EXIT', ref: { kind: 'Container', path: [...x.cellPath, x.container] }, exitCode: x.exitCode, time: x.time }),
        ) ?? (() => undefined);
    const off = () => {
      offStore();
      offExits();
    };
    const stop = () => queue.end();
    if (opts.signal?.aborted) stop();
    opts.signal?.addEventListener('abort', stop, { once: true });
    try {
      yield* queue;
    } finally {
      off();
      opts.signal?.removeEventListener('abort', stop);
    }
  }

  doctor(): Promise<DoctorReport> {
    return this.c.doctor();
  }

  async plugins(): Promise<PluginStatus[]> {
    return [...this.host.plugins];
  }

  async listSecrets(req: SecretListRequest): Promise<SecretDoc[]> {
    const scope = req.allRealms ? [] : (req.scope ?? []);
    if (!req.allRealms && (scope.length < 1 || scope.length > 4))
      throw new KukeonError('KUKEON_E_USAGE', 'listSecrets: scope is realm[, space[, stack[, cell]]]');
    for (const name of scope) checkName(name, 'secret scope');
    if (req.name !== undefined) checkName(req.name, 'secret name');
    return this.c.listSecrets({ ...req, scope });
  }

  async deleteSecret(req: SecretDeleteRequest): Promise<RemovedItem[]> {
    if (req.ref?.kind !== 'Secret' || !Array.isArray(req.ref.path) || req.ref.path.length < 2 || req.ref.path.length > 5)
      throw new KukeonError('KUKEON_E_USAGE', `deleteSecret: not a secret reference: ${JSON.stringify(req.ref)}`);
    for (const name of req.ref.path) checkName(name, 'secret path');
    return this.c.deleteSecret(req);
  }

  exec(req: ExecRequest, io: SessionIO, opts: CallOptions = {}): Promise<ExecResult> {
    checkExecRequest(req);
    return this.c.exec(req, io, opts.signal);
  }

  attach(req: AttachRequest, io: SessionIO, opts: CallOptions = {}): Promise<AttachResult> {
    checkAttachRequest(req);
    return this.c.attach(req, io, opts.signal);
  }
}

/** Chunks of `file` from `offset` to its current end; nothing when it does not exist yet. */
function* readFrom(file: string, offset: number): Generator<Uint8Array> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new KukeonError('KUKEON_E_NOT_FOUND', `cannot read the log ${file}: ${(err as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    for (let n = fs.readSync(fd, buf, 0, buf.length, offset); n > 0; n = fs.readSync(fd, buf, 0, buf.length, offset)) {
      offset += n;
      yield Buffer.from(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
}
