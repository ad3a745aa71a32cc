// The CRI RuntimeService over kukeon's controller: a pod sandbox is a cell, a CRI container is a container of that
// cell. Every change goes through the same ControllerApi kuke uses (apply, create, start, stop, delete), so the
// YAML state, cgroups and networks are kukeon's own, and `kuke get` shows the pods like any other cell.

import net from 'node:net';
import path from 'node:path';
import { KukeonError, isKukeonError } from '../../sdk';
import type {
  AnyDoc,
  CellDoc,
  ErrorCode,
  ConsoleService,
  ContainerDoc,
  ControllerApi,
  ExecResult,
  Ref,
  SessionIO,
  SessionOutput,
} from '../../sdk';
import { criContainerDoc } from './container-doc';
import { type SeenContainer, containerEventOf } from './container-events';
import { appliedCriResources, criResources } from './cri-resources';
import type { CriImages } from './cri-images';
import { CriLogWriter } from './cri-log';
import { byIdPrefix, kukeonName, newId, spaceName } from './cri-names';
import type { ContainerRecord, CriMessage, CriRecords, SandboxRecord } from './cri-records';
import { grpcError, invalid, notFound, unimplemented } from './grpc-status';
import { NS_MODE, PAUSE_ID, podCell, podNamespaces } from './pod-cell';
import { podNetworkUsage } from './pod-network-stats';
import type { StreamingServer } from './streaming';

export interface CriSettings {
  realm: string;
  stack: string;
  sandboxImage: string;
  version: string;
}

const SANDBOX_READY = 'SANDBOX_READY';
const SANDBOX_NOTREADY = 'SANDBOX_NOTREADY';

const nanos = (ms: number | string | undefined): string => {
  if (ms === undefined) return '0';
  const t = typeof ms === 'string' ? Date.parse(ms) : ms;
  return Number.isFinite(t) ? (BigInt(Math.round(t)) * 1_000_000n).toString() : '0';
};

function matchesLabels(labels: Record<string, string> | undefined, selector: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(selector ?? {})) if (labels?.[k] !== v) return false;
  return true;
}

function containerState(state: string | undefined): string {
  switch (state) {
    case 'Pending':
      return 'CONTAINER_CREATED';
    case 'Ready':
    case 'Degraded':
      return 'CONTAINER_RUNNING';
    case 'Exited':
    case 'Stopped':
    case 'Failed':
      return 'CONTAINER_EXITED';
    default:
      return 'CONTAINER_UNKNOWN';
  }
}

const isNotFound = (err: unknown) => isKukeonError(err) && (err.code === 'KUKEON_E_NOT_FOUND' || err.code === 'KUKEON_E_PARENT_NOT_FOUND');

export class CriRuntime {
  private readonly logs = new Map<string, CriLogWriter>();
  streaming?: StreamingServer;

  private readonly unobserve: (() => void) | undefined;

  constructor(
    private readonly api: ControllerApi,
    private readonly records: CriRecords,
    private readonly settings: CriSettings,
    private readonly images: CriImages,
    consoles?: ConsoleService,
  ) {
    records.load();
    // a container's output goes to its CRI log as the console reads it; running ones (a restarted daemon) append
    for (const c of records.containers.values()) if (c.logPath) this.logs.set(c.path.join('/'), new CriLogWriter(c.logPath, false));
    this.unobserve = consoles?.observe?.((e) => {
      const key = [...e.cellPath, e.container].join('/');
      const w = this.logs.get(key);
      if (!w) return;
      if ('end' in e) {
        w.end();
        this.logs.delete(key);
      } else w.write(e.stream, e.data);
    });
  }

  // --- runtime

  version(): CriMessage {
    return { version: '0.1.0', runtime_name: 'kukeon', runtime_version: this.settings.version, runtime_api_version: 'v1' };
  }

  async status(): Promise<CriMessage> {
    const plugins = await this.api.plugins();
    const ok = (slot: string) => plugins.some((p) => p.slot === slot && p.state === 'ok');
    const condition = (type: string, ready: boolean, slot: string) => ({
      type,
      status: ready,
      reason: ready ? '' : `${slot}PluginNotReady`,
      message: ready ? '' : `no ${slot} plugin is ok (kuke plugins ls)`,
    });
    return {
      status: { conditions: [condition('RuntimeReady', ok('runtime'), 'runtime'), condition('NetworkReady', ok('network'), 'network')] },
    };
  }

  // --- sandboxes

  async runPodSandbox(req: CriMessage): Promise<CriMessage> {
    const config: CriMessage = req.config ?? {};
    const meta = config.metadata ?? {};
    if (!meta.name) throw invalid('config.metadata.name is required');
    const id = newId();
    const where = {
      realm: this.settings.realm,
      space: spaceName(meta.namespace),
      stack: this.settings.stack,
      cell: kukeonName(meta.name, id),
    };
    const rec: SandboxRecord = {
      id,
      path: [where.realm, where.space, where.stack, where.cell],
      config,
      runtimeHandler: req.runtime_handler ?? '',
      createdAt: Date.now(),
    };
    let doc: CellDoc;
    try {
      doc = podCell(where, config, this.settings.sandboxImage);
    } catch (err) {
      throw grpcError(err);
    }
    await this.records.putSandbox(rec);
    try {
      await this.applyOrThrow(doc, `RunPodSandbox ${meta.namespace}/${meta.name}`);
    } catch (err) {
      await this.api.delete({ ref: this.cellRef(rec), force: true }).catch(() => undefined);
      await this.records.dropSandbox(id);
      throw err;
    }
    return { pod_sandbox_id: id };
  }

  async stopPodSandbox(req: CriMessage): Promise<CriMessage> {
    const rec = this.sandbox(req.pod_sandbox_id, true);
    if (!rec) return {};
    try {
      await this.api.stop({ ref: this.cellRef(rec), timeoutMs: 0 });
    } catch (err) {
      if (!isNotFound(err)) throw grpcError(err);
    }
    await this.records.putSandbox({ ...rec, stopped: true });
    return {};
  }

  async removePodSandbox(req: CriMessage): Promise<CriMessage> {
    const rec = this.sandbox(req.pod_sandbox_id, true);
    if (!rec) return {};
    try {
      await this.api.delete({ ref: this.cellRef(rec), force: true });
    } catch (err) {
      if (!isNotFound(err)) throw grpcError(err);
    }
    await this.records.dropSandbox(rec.id);
    return {};
  }

  async podSandboxStatus(req: CriMessage): Promise<CriMessage> {
    const rec = this.sandbox(req.pod_sandbox_id)!;
    const cell = await this.cell(rec);
    const ip = cell?.status?.ip ?? cell?.status?.network?.address?.split('/')[0] ?? '';
    const hostNetwork = cell?.spec.containers.find((c) => c.id === PAUSE_ID)?.hostNetwork === true;
    return {
      status: {
        id: rec.id,
        metadata: rec.config.metadata,
        state: this.sandboxReady(rec, cell) ? SANDBOX_READY : SANDBOX_NOTREADY,
        created_at: nanos(rec.createdAt),
        network: { ip: hostNetwork ? '' : ip, additional_ips: [] },
        linux: { namespaces: { options: rec.config.linux?.security_context?.namespace_options ?? {} } },
        labels: rec.config.labels ?? {},
        annotations: rec.config.annotations ?? {},
        runtime_handler: rec.runtimeHandler,
      },
      info: req.verbose ? { info: JSON.stringify({ cell: rec.path.join('/') }) } : {},
    };
  }

  async listPodSandbox(req: CriMessage): Promise<CriMessage> {
    this.records.forgetRemoved();
    const filter: CriMessage = req.filter ?? {};
    const items: CriMessage[] = [];
    const cells = await this.cells();
    for (const rec of this.records.sandboxes.values()) {
      if (filter.id && !rec.id.startsWith(filter.id)) continue;
      if (!matchesLabels(rec.config.labels, filter.label_selector)) continue;
      const state = this.sandboxReady(rec, cells.get(rec.path.join('/'))) ? SANDBOX_READY : SANDBOX_NOTREADY;
      if (filter.state && filter.state.state !== state) continue;
      items.push({
        id: rec.id,
        metadata: rec.config.metadata,
        state,
        created_at: nanos(rec.createdAt),
        labels: rec.config.labels ?? {},
        annotations: rec.config.annotations ?? {},
        runtime_handler: rec.runtimeHandler,
      });
    }
    return { items };
  }

  // --- containers

  async createContainer(req: CriMessage): Promise<CriMessage> {
    const sandbox = this.sandbox(req.pod_sandbox_id)!;
    const config: CriMessage = req.config ?? {};
    const meta = config.metadata ?? {};
    if (!meta.name) throw invalid('config.metadata.name is required');
    if (!config.image?.image) throw invalid('config.image.image is required');
    const image = await this.images.resolve(config.image.image);
    if (!image) throw notFound(`image ${JSON.stringify(config.image.image)}`);
    const id = newId();
    const name = kukeonName(meta.name, id);
    const logPath = config.log_path && sandbox.config.log_directory ? path.join(sandbox.config.log_directory, config.log_path) : undefined;
    const rec: ContainerRecord = {
      id,
      sandboxId: sandbox.id,
      path: [...sandbox.path, name],
      config,
      image: config.image?.image ?? image.name,
      imageRef: image.digest,
      createdAt: Date.now(),
      ...(logPath ? { logPath } : {}),
    };
    let doc: ContainerDoc;
    try {
      doc = criContainerDoc(sandbox.path, name, config, image.name, sandbox.config);
    } catch (err) {
      throw grpcError(err);
    }
    await this.records.putContainer(rec);
    try {
      await this.api.create({ doc, pull: 'never' });
    } catch (err) {
      await this.records.dropContainer(id);
      throw grpcError(err);
    }
    return { container_id: id };
  }

  async startContainer(req: CriMessage): Promise<CriMessage> {
    const rec = this.container(req.container_id)!;
    // the writer is there before the task starts: its first bytes are in the log
    const key = rec.path.join('/');
    if (rec.logPath) {
      this.logs.get(key)?.end();
      this.logs.set(key, new CriLogWriter(rec.logPath));
    }
    try {
      await this.api.start({ ref: this.containerRef(rec) });
    } catch (err) {
      this.logs.get(key)?.end();
      this.logs.delete(key);
      throw grpcError(err);
    }
    return {};
  }

  async stopContainer(req: CriMessage): Promise<CriMessage> {
    const rec = this.container(req.container_id, true);
    if (!rec) return {};
    try {
      await this.api.stop({ ref: this.containerRef(rec), timeoutMs: Math.max(0, Number(req.timeout ?? 0)) * 1000 });
    } catch (err) {
      if (!isNotFound(err)) throw grpcError(err);
    }
    return {};
  }

  async removeContainer(req: CriMessage): Promise<CriMessage> {
    const rec = this.container(req.container_id, true);
    if (!rec) return {};
    try {
      await this.api.delete({ ref: this.containerRef(rec), force: true });
    } catch (err) {
      if (!isNotFound(err)) throw grpcError(err);
    }
    await this.records.dropContainer(rec.id);
    return {};
  }

  async containerStatus(req: CriMessage): Promise<CriMessage> {
    const rec = this.container(req.container_id)!;
    const live = await this.containerDoc(rec);
    return { status: this.statusOf(rec, live), info: {} };
  }

  async listContainers(req: CriMessage): Promise<CriMessage> {
    this.records.forgetRemoved();
    const filter: CriMessage = req.filter ?? {};
    const live = await this.liveContainers();
    const containers: CriMessage[] = [];
    for (const rec of this.records.containers.values()) {
      if (filter.id && !rec.id.startsWith(filter.id)) continue;
      if (filter.pod_sandbox_id && !rec.sandboxId.startsWith(filter.pod_sandbox_id)) continue;
      if (!matchesLabels(rec.config.labels, filter.label_selector)) continue;
      const status = this.statusOf(rec, live.get(rec.path.join('/')));
      if (filter.state && filter.state.state !== status.state) continue;
      containers.push({
        id: rec.id,
        pod_sandbox_id: rec.sandboxId,
        metadata: rec.config.metadata,
        image: { image: rec.image },
        image_ref: rec.imageRef,
        state: status.state,
        created_at: status.created_at,
        labels: status.labels,
        annotations: status.annotations,
      });
    }
    return { containers };
  }

  async reopenContainerLog(req: CriMessage): Promise<CriMessage> {
    const rec = this.container(req.container_id)!;
    const status = this.statusOf(rec, await this.containerDoc(rec));
    if (status.state !== 'CONTAINER_RUNNING') throw invalid(`container ${rec.id} is not running`);
    this.logs.get(rec.path.join('/'))?.reopen();
    return {};
  }

  async execSync(req: CriMessage): Promise<CriMessage> {
    const rec = this.container(req.container_id)!;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const io: SessionIO = { output: (o: SessionOutput) => void (o.stream === 'stderr' ? err : out).push(Buffer.from(o.data)) };
    const timeout = Number(req.timeout ?? 0);
    const ac = new AbortController();
    const timer = timeout > 0 ? setTimeout(() => ac.abort(), timeout * 1000) : undefined;
    let result: ExecResult;
    try {
      result = await this.api.exec(this.execRequest(rec, req.cmd ?? [], false, false), io, { signal: ac.signal });
    } catch (e) {
      throw grpcError(e);
    } finally {
      if (timer) clearTimeout(timer);
    }
    if (ac.signal.aborted) {
      const e = grpcError(new Error(`command ${JSON.stringify(req.cmd)} timed out after ${timeout}s`));
      e.code = 4; // DEADLINE_EXCEEDED
      throw e;
    }
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exit_code: result.exitCode };
  }

  exec(req: CriMessage): CriMessage {
    this.container(req.container_id);
    if (!this.streaming) throw unimplemented('Exec');
    if (!req.stdout && !req.stderr && !req.stdin) throw invalid('one of stdin, stdout or stderr must be set');
    return { url: this.streaming.getExec(req) };
  }

  attach(req: CriMessage): CriMessage {
    this.container(req.container_id);
    if (!this.streaming) throw unimplemented('Attach');
    return { url: this.streaming.getAttach(req) };
  }

  portForward(req: CriMessage): CriMessage {
    this.sandbox(req.pod_sandbox_id);
    if (!this.streaming) throw unimplemented('PortForward');
    return { url: this.streaming.getPortForward(req) };
  }

  /** For the streaming server: runs `cmd` in the container with the client's streams. */
  streamExec(containerId: string, cmd: string[], tty: boolean, stdin: boolean, io: SessionIO, signal: AbortSignal): Promise<ExecResult> {
    const rec = this.container(containerId)!;
    return this.api.exec(this.execRequest(rec, cmd, tty, stdin), io, { signal });
  }

  /** For the streaming server: attaches to the container's terminal. */
  async streamAttach(containerId: string, stdin: boolean, io: SessionIO, signal: AbortSignal): Promise<ExecResult | undefined> {
    const rec = this.container(containerId)!;
    const r = await this.api.attach({ ref: { kind: 'Cell', path: rec.path.slice(0, 4) }, container: rec.path[4], stdin }, io, { signal });
    return r.exitCode === undefined ? undefined : { exitCode: r.exitCode };
  }

  /** For the streaming server: a connection to `port` of the pod (its address, or loopback on the host network). */
  async streamPortForward(podId: string, port: number): Promise<net.Socket> {
    const rec = this.sandbox(podId)!;
    const cell = await this.cell(rec);
    const hostNetwork = cell?.spec.containers.find((c) => c.id === PAUSE_ID)?.hostNetwork === true;
    const ip = hostNetwork ? '127.0.0.1' : (cell?.status?.ip ?? cell?.status?.network?.address?.split('/')[0]);
    if (!ip) throw new Error(`pod ${podId} has no address`);
    return net.connect({ host: ip, port });
  }

  async containerStats(req: CriMessage): Promise<CriMessage> {
    const rec = this.container(req.container_id)!;
    return { stats: this.statsOf(rec, await this.containerDoc(rec)) };
  }

  async listContainerStats(req: CriMessage): Promise<CriMessage> {
    this.records.forgetRemoved();
    const filter: CriMessage = req.filter ?? {};
    const live = await this.liveContainers();
    const stats: CriMessage[] = [];
    for (const rec of this.records.containers.values()) {
      if (filter.id && !rec.id.startsWith(filter.id)) continue;
      if (filter.pod_sandbox_id && !rec.sandboxId.startsWith(filter.pod_sandbox_id)) continue;
      if (!matchesLabels(rec.config.labels, filter.label_selector)) continue;
      stats.push(this.statsOf(rec, live.get(rec.path.join('/'))));
    }
    return { stats };
  }

  async podSandboxStats(req: CriMessage): Promise<CriMessage> {
    const rec = this.sandbox(req.pod_sandbox_id)!;
    const cell = await this.cell(rec);
    if (!cell) throw notFound(`pod sandbox ${JSON.stringify(req.pod_sandbox_id)}`);
    return { stats: this.podStatsOf(rec, cell, await this.liveContainers()) };
  }

  async listPodSandboxStats(req: CriMessage): Promise<CriMessage> {
    this.records.forgetRemoved();
    const filter: CriMessage = req.filter ?? {};
    const [cells, live] = [await this.cells(), await this.liveContainers()];
    const stats: CriMessage[] = [];
    for (const rec of this.records.sandboxes.values()) {
      const cell = cells.get(rec.path.join('/'));
      if (!cell || (filter.id && !rec.id.startsWith(filter.id))) continue;
      if (!matchesLabels(rec.config.labels, filter.label_selector)) continue;
      stats.push(this.podStatsOf(rec, cell, live));
    }
    return { stats };
  }

  /**
   * New limits for a container, running or not: its document is applied with the new `resources`, and kukeon's
   * apply changes them in place (the update hook: runc update) rather than recreating the container.
   */
  async updateContainerResources(req: CriMessage): Promise<CriMessage> {
    const rec = this.container(req.container_id)!;
    const doc = await this.containerDoc(rec);
    if (!doc) throw notFound(`container ${JSON.stringify(req.container_id)}`);
    const { resources: _was, ...spec } = doc.spec;
    const resources = criResources(req.linux);
    const next: ContainerDoc = {
      apiVersion: doc.apiVersion,
      kind: 'Container',
      metadata: doc.metadata,
      spec: { ...spec, ...(resources ? { resources } : {}) },
    };
    // the record first: the spec rebuilt by the update reads its oom_score_adj from there; put back on a refusal
    const before = rec.config;
    rec.config = { ...rec.config, linux: { ...rec.config.linux, resources: req.linux ?? {} } };
    await this.records.putContainer(rec);
    try {
      await this.applyOrThrow(next, `UpdateContainerResources ${rec.id}`);
    } catch (err) {
      rec.config = before;
      await this.records.putContainer(rec);
      throw err;
    }
    return {};
  }

  /**
   * GetContainerEvents: `emit` gets each event, with the pod's status and its containers' statuses (as containerd
   * sends them), until `signal` aborts. The infra container's events are the pod's: their id is the sandbox's.
   */
  async containerEvents(emit: (event: CriMessage) => void, signal: AbortSignal): Promise<void> {
    const seen = new Map<string, SeenContainer>();
    const ids = new Map<string, { id: string; sandboxId: string }>();
    for await (const e of this.api.watch({ kinds: ['Container'], scope: [this.settings.realm] }, { signal })) {
      const key = e.ref.path.join('/');
      const { type, seen: next } = containerEventOf(e, seen.get(key));
      if (next) seen.set(key, next);
      else seen.delete(key);
      const known = this.criIdsOf(e.ref.path) ?? ids.get(key);
      if (known) ids.set(key, known);
      if (e.type === 'DELETED') ids.delete(key);
      if (!type || !known) continue;
      const pod = await this.podSandboxStatus({ pod_sandbox_id: known.sandboxId }).catch(() => undefined);
      const live = await this.liveContainers();
      const containers = [...this.records.containers.values()]
        .filter((c) => c.sandboxId === known.sandboxId)
        .map((c) => this.statusOf(c, live.get(c.path.join('/'))));
      emit({
        container_id: known.id,
        container_event_type: type,
        created_at: nanos(e.time),
        ...(pod ? { pod_sandbox_status: pod.status } : {}),
        containers_statuses: containers,
      });
    }
  }

  close(): void {
    this.unobserve?.();
    for (const w of this.logs.values()) w.end();
    this.logs.clear();
  }

  // --- helpers

  private execRequest(rec: ContainerRecord, cmd: string[], tty: boolean, stdin: boolean) {
    if (!cmd.length) throw invalid('cmd is required');
    return { ref: { kind: 'Cell' as const, path: rec.path.slice(0, 4) }, container: rec.path[4], command: cmd, tty, stdin };
  }

  private statusOf(rec: ContainerRecord, live: ContainerDoc | undefined): CriMessage {
    const st = live?.status ?? {};
    const state = live ? containerState(st.state) : 'CONTAINER_UNKNOWN';
    const exited = state === 'CONTAINER_EXITED';
    return {
      id: rec.id,
      metadata: rec.config.metadata,
      state,
      created_at: nanos(rec.createdAt),
      started_at: st.startTime ? nanos(st.startTime) : '0',
      finished_at: exited ? nanos(st.finishTime ?? st.updatedAt) : '0',
      exit_code: exited ? (st.exitCode ?? (st.exitSignal ? 137 : 0)) : 0,
      image: { image: rec.image },
      image_ref: rec.imageRef,
      reason: exited ? (st.reason === 'OOMKilled' ? 'OOMKilled' : st.exitCode ? 'Error' : 'Completed') : '',
      message: st.message ?? '',
      labels: rec.config.labels ?? {},
      annotations: rec.config.annotations ?? {},
      mounts: (rec.config.mounts ?? []).map((m: CriMessage) => ({
        container_path: m.container_path,
        host_path: m.host_path,
        readonly: !!m.readonly,
        selinux_relabel: !!m.selinux_relabel,
        propagation: m.propagation ?? 0,
      })),
      log_path: rec.logPath ?? '',
      resources: appliedCriResources(rec.config.linux?.resources),
    };
  }

  private statsOf(rec: ContainerRecord, live: ContainerDoc | undefined): CriMessage {
    const stats = live?.status?.stats ?? {};
    const now = nanos(Date.now());
    return {
      attributes: { id: rec.id, metadata: rec.config.metadata, labels: rec.config.labels ?? {}, annotations: rec.config.annotations ?? {} },
      cpu: { timestamp: now, usage_core_nano_seconds: { value: String((stats.cpuUsageUsec ?? 0) * 1000) } },
      memory: { timestamp: now, working_set_bytes: { value: String(stats.memoryCurrent ?? 0) } },
      writable_layer: { timestamp: now, fs_id: { mountpoint: '' }, used_bytes: { value: '0' }, inodes_used: { value: '0' } },
    };
  }

  /** A pod's usage: its cell's cgroup (every container's, the infra's included), its network namespace's counters. */
  private podStatsOf(rec: SandboxRecord, cell: CellDoc, live: Map<string, ContainerDoc>): CriMessage {
    const stats = cell.status?.stats ?? {};
    const now = nanos(Date.now());
    const rootPid = cell.status?.root?.pid;
    const ownNetwork = podNamespaces(rec.config).network !== NS_MODE.NODE;
    const network = ownNetwork && rootPid ? podNetworkUsage(rootPid, now) : undefined;
    const containers = [...this.records.containers.values()]
      .filter((c) => c.sandboxId === rec.id)
      .map((c) => this.statsOf(c, live.get(c.path.join('/'))));
    return {
      attributes: { id: rec.id, metadata: rec.config.metadata, labels: rec.config.labels ?? {}, annotations: rec.config.annotations ?? {} },
      linux: {
        cpu: { timestamp: now, usage_core_nano_seconds: { value: String((stats.cpuUsageUsec ?? 0) * 1000) } },
        memory: { timestamp: now, working_set_bytes: { value: String(stats.memoryCurrent ?? 0) } },
        process: { timestamp: now, process_count: { value: String(stats.pidsCurrent ?? 0) } },
        ...(network ? { network } : {}),
        containers,
      },
    };
  }

  /**
   * READY while its root (the infra container) runs, whatever its containers did: a cell whose workloads all exited
   * (`Exited`) or one of which failed (`Failed`) still holds the pod's namespaces, and the kubelet would make the pod
   * anew for a sandbox that is not ready.
   */
  private sandboxReady(rec: SandboxRecord, cell: CellDoc | undefined): boolean {
    if (rec.stopped || !cell) return false;
    const root = cell.status?.containerStatuses?.find((c) => c.root);
    if (root) return root.state === 'Ready' || root.state === 'Degraded';
    const state = cell.status?.state;
    return state === 'Ready' || state === 'Degraded' || state === 'Exited';
  }

  private sandbox(id: string, optional = false): SandboxRecord | undefined {
    this.records.forgetRemoved();
    const rec = byIdPrefix(this.records.sandboxes, id ?? '');
    if (!rec && !optional) throw notFound(`pod sandbox ${JSON.stringify(id)}`);
    return rec;
  }

  private container(id: string, optional = false): ContainerRecord | undefined {
    this.records.forgetRemoved();
    const rec = byIdPrefix(this.records.containers, id ?? '');
    if (!rec && !optional) throw notFound(`container ${JSON.stringify(id)}`);
    return rec;
  }

  /** Applies one document; an item apply reports as failed is an error, as a thrown one is. */
  private async applyOrThrow(doc: AnyDoc, source: string): Promise<void> {
    try {
      const report = await this.api.apply({ text: JSON.stringify(doc), source });
      const failed = report.items.find((i) => i.action === 'failed');
      if (failed) throw new KukeonError((failed.code ?? 'KUKEON_E_STEP') as ErrorCode, failed.error ?? 'apply failed');
    } catch (err) {
      throw grpcError(err);
    }
  }

  /** The CRI ids of a container path: a CRI container's own, or the pod's for its infra container. */
  private criIdsOf(path: readonly string[]): { id: string; sandboxId: string } | undefined {
    const key = path.join('/');
    if (path[4] === PAUSE_ID) {
      for (const s of this.records.sandboxes.values())
        if (s.path.join('/') === path.slice(0, 4).join('/')) return { id: s.id, sandboxId: s.id };
      return undefined;
    }
    for (const c of this.records.containers.values()) if (c.path.join('/') === key) return { id: c.id, sandboxId: c.sandboxId };
    return undefined;
  }

  private cellRef(rec: SandboxRecord): Ref {
    return { kind: 'Cell', path: rec.path };
  }

  private containerRef(rec: ContainerRecord): Ref {
    return { kind: 'Container', path: rec.path };
  }

  private async cell(rec: SandboxRecord): Promise<CellDoc | undefined> {
    const [realm, space, stack, name] = rec.path;
    const docs = await this.api.get({ kind: 'Cell', scope: [realm, space, stack], name }).catch(() => [] as AnyDoc[]);
    return docs[0] as CellDoc | undefined;
  }

  /** Every CRI pod's cell, by path: one get per space and stack that holds pods. */
  private async cells(): Promise<Map<string, CellDoc>> {
    const out = new Map<string, CellDoc>();
    const scopes = new Set([...this.records.sandboxes.values()].map((s) => s.path.slice(0, 3).join('/')));
    for (const scope of scopes) {
      const docs = await this.api.get({ kind: 'Cell', scope: scope.split('/') }).catch(() => [] as AnyDoc[]);
      for (const d of docs as CellDoc[]) out.set([d.spec.realmId, d.spec.spaceId, d.spec.stackId, d.metadata.name].join('/'), d);
    }
    return out;
  }

  private async containerDoc(rec: ContainerRecord): Promise<ContainerDoc | undefined> {
    const docs = await this.api.get({ kind: 'Container', scope: rec.path.slice(0, 4), name: rec.path[4] }).catch(() => [] as AnyDoc[]);
    return docs[0] as ContainerDoc | undefined;
  }

  /** Every CRI container's live document, by path: one get per space and stack that holds pods. */
  private async liveContainers(): Promise<Map<string, ContainerDoc>> {
    const out = new Map<string, ContainerDoc>();
    const scopes = new Set([...this.records.containers.values()].map((c) => c.path.slice(0, 3).join('/')));
    for (const scope of scopes) {
      const docs = await this.api.get({ kind: 'Container', scope: scope.split('/') }).catch(() => [] as AnyDoc[]);
      for (const d of docs as ContainerDoc[])
        out.set([d.spec.realmId, d.spec.spaceId, d.spec.stackId, d.spec.cellId, d.metadata.name].join('/'), d);
    }
    return out;
  }
}
