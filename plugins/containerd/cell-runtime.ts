// What the containerd plugin does in each phase: containers, snapshots and tasks of a cell, in its realm's
// namespace. Everything tolerates parts that are already gone (NOT_FOUND is success on the way down).

import fs from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { KukeonError, SCOPED_DIRS, formatRef, isKukeonError, parseSecurityOpts, scopeRefOf, volumeRefOf } from '../../sdk';
import type {
  CellContext,
  ContainerContext,
  ContainerSpec,
  ContainerDoc,
  ContainerStatus,
  ImagePullOptions,
  ImagePullResult,
  OciSpec,
  PluginHost,
  RealmDoc,
  ScopedRef,
  StopOptions,
  ValidateContext,
} from '../../sdk';
import { writeEtcFiles } from './etc-files';
import type { ContainerdClient, Process } from './grpc/containerd-client';
import { isAlreadyExists, isNotFound } from './grpc/status-codes';
import type { ImageChainInfo } from './image/import-oci-archive';
import { LABELS, RESTART_LABELS, ROOT_LEAF, SYSTEM_REALM, containerdId, labelsFor, namespaceOf } from './naming';
import { needsEtcFiles, resolveExecUser } from './exec-user';
import type { EtcFiles, ExecUser } from './exec-user';
import { declaredDevice } from './host-devices';
import { readImageEtcFiles } from './image-etc-files';
import { liveResources } from './live-resources';
import { runtimeSpec } from './oci-spec';
import { prepareVolumeSources } from './volume-mounts';
import { copyUp, isEmptyDir, readImageDir } from './volume-copy-up';
import type { ImageConfig } from './oci-spec';
import { findPauseBinary } from './pause-binary';
import { containerdStartedMs, removeStaleBundle } from './stale-bundle';
import { forbiddenError, forbiddenField } from './privilege-policy';
import { readSeccompProfile } from './seccomp';
import type { SeccompProfile } from './seccomp';
import type { Consoles } from './console/consoles';
import { type ConsoleMeta, hasStdin, removeFifos } from './console/fifos';

const debug = createDebug('kukeon:containerd');

export interface RuntimeConfig {
  socket: string;
  snapshotter: string;
  runtime: string;
  pauseBinary?: string;
  /** false: privileged, hostPID, devices and capabilities beyond the default set are refused (KUKEON_E_FORBIDDEN). */
  allowPrivileged?: boolean;
  /** Registry host (`registry.k8s.io`, `docker.io`) -> the base URL its images are pulled from instead (containerd's mirrors). */
  registryMirrors?: Record<string, string>;
}

const now = () => new Date().toISOString();

/** In-process there is no one to own a terminal once `kuke` exits: an attachable container starts through kukeond. */
export function needsDaemon(ctx: { ref: { kind: string; path: readonly string[] } }, container: string): KukeonError {
  return new KukeonError(
    'KUKEON_E_NEEDS_DAEMON',
    `container ${container} of ${formatRef({ kind: 'Cell', path: ctx.ref.path.slice(0, 4) })} is attachable: its terminal is owned by kukeond, so it starts only through the daemon`,
    { plugin: 'containerd', hint: 'start kukeond (kuke daemon start, or kuke init) and run kuke without --no-daemon or --run-path' },
  );
}

const notInNamespace = (image: string, ns: string) =>
  new KukeonError(
    'KUKEON_E_NOT_FOUND',
    `image ${image} is not in namespace ${ns}; pull it with kuke image pull or load it with kuke image load`,
    { plugin: 'containerd', field: 'image' },
  );

/** Where a cell keeps its logs and generated /etc files: beside its state when the store is file-based. */
export function cellDir(host: PluginHost, cellPath: readonly string[]): string {
  return host.state.location({ kind: 'Cell', path: cellPath }) ?? path.join(host.paths.runtimeDir, 'cells', ...cellPath);
}

export class CellRuntime {
  private clientInstance: ContainerdClient | undefined;
  /**
   * What an image's target digest leads to (chain id and config), per namespace. The key is content-addressed, so
   * an entry is never wrong; it is dropped when its image is removed or its namespace swept, so a long-lived
   * process (the daemon) neither grows it without bound nor keeps what a purge took away.
   * Namespaces are not cached at all: another process (or a purge) may delete one at any time, and asking
   * containerd to create it again costs one local call.
   */
  private readonly images = new Map<string, Map<string, ImageChainInfo>>();
  /** An image's /etc/passwd and /etc/group by manifest digest (content-addressed, so never stale). */
  private readonly etcFiles = new Map<string, EtcFiles>();
  /** The terminals of attachable containers: kukeond's host only (in-process, starting one is refused). */
  consoles: Consoles | undefined;

  constructor(
    private readonly host: PluginHost,
    private readonly config: RuntimeConfig,
  ) {
    host.onClose(() => this.clientInstance?.close());
  }

  /** The snapshotter images are unpacked into (what a sweep lists and removes snapshots of). */
  get snapshotter(): string {
    return this.config.snapshotter;
  }

  /** Connects on first use: a plugin's apply opens no connection. */
  /** containerd's socket (for a helper process that talks to it on its own). */
  get socket(): string {
    return this.config.socket;
  }

  get client(): ContainerdClient {
    // Loaded here, not at import: the gRPC stack costs ~200 ms that commands not reaching containerd never pay.
    const { ContainerdClient: Client } = require('./grpc/containerd-client') as typeof import('./grpc/containerd-client');
    this.clientInstance ??= new Client(this.config.socket);
    return this.clientInstance;
  }

  async namespaceOfRealm(realm: string, doc?: RealmDoc): Promise<string> {
    return namespaceOf(realm, doc ?? (await this.host.state.get({ kind: 'Realm', path: [realm] })));
  }

  /** Creates the realm's namespace, labelled as kukeon's only when kukeon made it (a shared one stays foreign). */
  async ensureNamespace(realm: string, doc?: RealmDoc): Promise<string> {
    const ns = await this.namespaceOfRealm(realm, doc);
    try {
      await this.client.namespaces.create(ns, { [LABELS.managed]: 'true', [LABELS.realm]: realm });
    } catch (err) {
      if (!isAlreadyExists(err)) throw this.explain(err);
    }
    return ns;
  }

  /** Drops cached image facts of `ns`: of the images with these target digests, or all of them. */
  forgetImages(ns: string, targets?: readonly string[]): void {
    if (!targets) this.images.delete(ns);
    else for (const t of targets) this.images.get(ns)?.delete(t);
  }

  /** containerd unreachable (gRPC UNAVAILABLE): KUKEON_E_UNAVAILABLE naming the socket, never a stack trace. */
  explain(err: unknown): Error {
    const e = err as Error & { grpcCode?: number };
    if (e.grpcCode === 14)
      return new KukeonError(
        'KUKEON_E_UNAVAILABLE',
        `containerd at ${this.config.socket} is unreachable: ${e.message}`,
        { plugin: 'containerd', hint: `start containerd, or point --containerd-socket / KUKEON_CONTAINERD_SOCKET at its socket` },
        { cause: err },
      );
    return e;
  }

  /**
   * containerd's failure of a request at a service boundary: unreachable as explain() says; any other gRPC error
   * is containerd's own (its disk, its metadata), so it is coded as the plugin's failure, not kukeon's internal one.
   */
  refused(err: unknown, what: string): Error {
    const e = err as Error & { grpcCode?: number };
    if (e.grpcCode === undefined || e.grpcCode === 14) return this.explain(err);
    return new KukeonError('KUKEON_E_PLUGIN', `containerd could not ${what}: ${e.message}`, { plugin: 'containerd' }, { cause: err });
  }

  logPath(cellPath: readonly string[], id: string): string {
    return path.join(cellDir(this.host, cellPath), 'logs', `${id}.log`);
  }

  /** A named volume's data: `<scope dir>/volumes/<name>` beside the scope's state. */
  volumeDir(ref: ScopedRef): string {
    const scope = scopeRefOf(ref);
    const dir = this.host.state.location(scope);
    if (!dir)
      throw new KukeonError('KUKEON_E_STORE', `the store keeps no directory for ${formatRef(scope)}: volumes need a file-based store`);
    return path.join(dir, SCOPED_DIRS.Volume, ref.path[ref.path.length - 1]);
  }

  etcDir(cellPath: readonly string[]): string {
    return path.join(cellDir(this.host, cellPath), 'etc');
  }

  rootfsDir(ns: string, id: string): string {
    return path.join(this.host.paths.runtimeDir, 'containerd', 'rootfs', ns, id);
  }

  /** The cell's generated /etc files; the network plugin rewrites hosts once the IP is known. */
  prepare(ctx: CellContext): void {
    writeEtcFiles(this.etcDir(ctx.ref.path), ctx.ref.path[3], ctx.status.ip);
    fs.mkdirSync(path.join(cellDir(this.host, ctx.ref.path), 'logs'), { recursive: true });
  }

  /**
   * The name an image reference is stored under: as written when an image has that name (a loaded archive's
   * own name), else its canonical form (`busybox` → `docker.io/library/busybox:latest`); undefined when neither exists.
   */
  async findImage(ns: string, image: string): Promise<{ name: string; target: string } | undefined> {
    const { normalizeName } = require('./image/reference') as typeof import('./image/reference');
    for (const name of [...new Set([image, normalizeName(image)])]) {
      try {
        return { name, target: (await this.client.images.get(ns, name)).target.digest };
      } catch (err) {
        if (!isNotFound(err)) throw this.explain(err);
      }
    }
    return undefined;
  }

  /**
   * Pulls `ref` into the realm's namespace with the request's credentials (the caller's `kuke login` file, sent
   * by the client), then the realm's. A daemon never reads a user's home, so no file is read here.
   */
  async pull(realm: string, ref: string, opts: ImagePullOptions & { realmDoc?: RealmDoc } = {}): Promise<ImagePullResult> {
    const realmDoc = opts.realmDoc ?? (await this.host.state.get({ kind: 'Realm', path: [realm] }));
    const ns = await this.ensureNamespace(realm, realmDoc);
    const { pullImage } = require('./image/pull') as typeof import('./image/pull');
    const { parsePlatform } = require('./image/reference') as typeof import('./image/reference');
    const credentials = [...(opts.credentials ?? []), ...(realmDoc?.spec?.registryCredentials ?? [])];
    try {
      const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
      const r = await pullImage(this.client, ns, ref, {
        snapshotter: this.config.snapshotter,
        labels: { [LABELS.realm]: realm },
        platform,
        insecure: opts.insecure,
        mirrors: this.config.registryMirrors,
        credentials,
        onProgress: opts.onProgress as never,
        signal: opts.signal,
      });
      return { name: r.name, digest: r.digest, size: r.size, platform: r.platform };
    } catch (err) {
      const e = err as Error & { grpcCode?: number };
      if (e.grpcCode !== undefined) throw this.explain(err);
      throw new KukeonError('KUKEON_E_PULL', `pulling ${ref}: ${e.message}`, { plugin: 'containerd', field: 'image' });
    }
  }

  async imageConfig(ns: string, image: string): Promise<{ chainId: string; config: ImageConfig; manifestDigest: string }> {
    try {
      // The image name is looked up every time (it may have been re-pulled or removed); what its target digest
      // leads to never changes, so that is cached.
      const found = await this.findImage(ns, image);
      if (!found) throw notInNamespace(image, ns);
      let cache = this.images.get(ns);
      if (!cache) this.images.set(ns, (cache = new Map()));
      let info = cache.get(found.target);
      if (!info) {
        const { imageChainId } = require('./image/import-oci-archive') as typeof import('./image/import-oci-archive');
        info = await imageChainId(this.client, ns, found.name);
        cache.set(found.target, info);
      }
      return { chainId: info.chainId, config: info.config, manifestDigest: info.manifestDigest };
    } catch (err) {
      // A NOT_FOUND here: the image's manifest or config left the content store after the name was found.
      if (isNotFound(err)) throw notInNamespace(image, ns);
      throw this.explain(err);
    }
  }

  /** `runtime.images.ensure`: pulls by policy; the host calls it before any phase lock is taken. */
  async ensureImage(realm: string, image: string, opts: ImagePullOptions & { policy: 'missing' | 'never' | 'always' }): Promise<void> {
    if (opts.policy === 'never') return;
    const realmDoc = await this.host.state.get({ kind: 'Realm', path: [realm] });
    if (opts.policy === 'missing' && (await this.findImage(await this.namespaceOfRealm(realm, realmDoc), image))) return;
    await this.pull(realm, image, { ...opts, realmDoc });
  }

  /**
   * Checks at create what a start would need, so a bad one fails early: the image is there (ensureImage ran
   * before), the user resolves in it, the seccomp profile reads, the devices are device nodes on this host.
   */
  async checkImage(ctx: ContainerContext): Promise<void> {
    const ns = await this.namespaceOfRealm(ctx.ref.path[0], ctx.parents.realm);
    // no image: runs on an empty rootfs (validation allows it in the system realm only)
    const image = ctx.doc.spec.image === undefined ? undefined : await this.imageConfig(ns, ctx.doc.spec.image);
    const field = `containers.${ctx.doc.metadata.name}`;
    await this.execUser(ns, ctx.doc.spec, image, `${field}.user`);
    this.seccompProfile(ctx.doc.spec, `${field}.securityOpts`);
    (ctx.doc.spec.devices ?? []).forEach((d, i) => {
      declaredDevice(d, `${field}.devices[${i}]`);
    });
  }

  /**
   * The `validate` tap: what checkImage checks, before anything is stored, with the manifest's field paths. The
   * user is looked up only when the image is there already (else create does it, after the pull).
   */
  async refusal(ctx: ValidateContext): Promise<KukeonError | undefined> {
    const doc = ctx.doc;
    if (doc.kind !== 'Cell' && doc.kind !== 'Container') return undefined;
    const containers: [string, ContainerSpec][] =
      doc.kind === 'Cell' ? doc.spec.containers.map((c, i) => [`spec.containers[${i}].`, c]) : [['spec.', doc.spec]];
    for (const [prefix, spec] of containers) {
      try {
        (spec.devices ?? []).forEach((d, i) => {
          declaredDevice(d, `${prefix}devices[${i}]`);
        });
        this.seccompProfile(spec, `${prefix}securityOpts`);
        if (spec.image === undefined || !needsEtcFiles(spec.user)) continue;
        const ns = await this.namespaceOfRealm(ctx.ref.path[0]);
        const image = await this.imageConfig(ns, spec.image).catch(() => undefined);
        if (image) await this.execUser(ns, spec, image, `${prefix}user`);
      } catch (err) {
        if (!isKukeonError(err)) throw err;
        return new KukeonError(err.code, err.message, { document: ctx.index, kind: doc.kind, name: doc.metadata.name, ...err.details });
      }
    }
    return undefined;
  }

  /** `user` (as `kuke exec -u` gives it) resolved against the account files of the image a container runs. */
  async resolveUser(ns: string, imageName: string | undefined, user: string, field: string): Promise<ExecUser> {
    const image = imageName ? await this.imageConfig(ns, imageName).catch(() => undefined) : undefined;
    return this.execUser(ns, { id: 'exec', user }, image, field);
  }

  /** The container's user (its `user`, else the image's), names resolved from the image's account files. */
  private async execUser(
    ns: string,
    spec: ContainerSpec,
    image: { config: ImageConfig; manifestDigest: string } | undefined,
    field: string,
  ): Promise<ExecUser> {
    const user = spec.user ?? image?.config.User;
    if (!needsEtcFiles(user) || !image) return resolveExecUser(user, {}, field);
    let files = this.etcFiles.get(image.manifestDigest);
    if (!files) {
      try {
        files = await readImageEtcFiles(this.client, ns, image.manifestDigest);
      } catch (err) {
        const e = this.explain(err);
        if (isKukeonError(e)) throw e;
        // a bare uid runs without the files (gid 0, as for a uid they lack); only a name cannot
        if (/^\d+$/.test(user!)) return resolveExecUser(user, {}, field);
        throw new KukeonError('KUKEON_E_STEP', `${field}: reading the image's /etc/passwd failed: ${e.message}`, {
          field,
          plugin: 'containerd',
        });
      }
      this.etcFiles.set(image.manifestDigest, files);
    }
    return resolveExecUser(user, files, field);
  }

  /** The profile `securityOpts: ["seccomp=<path>"]` names, read now (undefined for the default or unconfined). */
  private seccompProfile(spec: ContainerSpec | undefined, field: string): SeccompProfile | undefined {
    const opts = spec?.securityOpts;
    const seccomp = parseSecurityOpts(opts).seccomp;
    if (typeof seccomp !== 'object' || spec?.privileged) return undefined;
    // the last seccomp option is the one in force, as in Docker
    const i = opts!.reduce((last, o, at) => (/^seccomp[=:]/.test(o) ? at : last), -1);
    return readSeccompProfile(seccomp.path, `${field}[${i}]`);
  }

  /** Builds the spec through the ociSpec waterfall, then creates or updates the containerd container. */
  private async ensureContainer(
    ctx: CellContext,
    ns: string,
    role: 'root' | 'workload',
    doc: ContainerDoc | undefined,
    rootPid: number | undefined,
  ): Promise<{ id: string; spec: OciSpec; rootfs: { type: string; source: string; options: string[] }[] }> {
    // a cell stored before the host forbade privileges does not start with them either
    const forbidden =
      doc && this.config.allowPrivileged === false && ctx.ref.path[0] !== SYSTEM_REALM ? forbiddenField(doc.spec) : undefined;
    if (forbidden) throw forbiddenError(`containers.${doc!.metadata.name}.${forbidden}`, { plugin: 'containerd' });
    const leaf = doc?.metadata.name ?? ROOT_LEAF;
    const id = containerdId(ctx.ref.path, leaf);
    const labels: Record<string, string> = { ...labelsFor(ctx.ref.path, leaf, role), ...this.restartMonitorLabels(ctx, doc) };
    let image: { chainId: string; config: ImageConfig; manifestDigest: string } | undefined;
    let rootfsPath: string | undefined;
    let pauseBinary: string | undefined;
    if (doc?.spec.image) image = await this.imageConfig(ns, doc.spec.image);
    else {
      // A synthesized root, or a container without an image (the system realm's kukeond): an empty rootfs
      if (!doc) pauseBinary = findPauseBinary(this.config.pauseBinary);
      rootfsPath = this.rootfsDir(ns, id);
      for (const d of ['proc', 'dev', 'sys', 'etc', 'tmp', 'run', '.kukeon']) fs.mkdirSync(path.join(rootfsPath, d), { recursive: true });
      for (const f of ['etc/hostname', 'etc/hosts', 'etc/resolv.conf', ...(doc ? [] : ['.kukeon/pause'])])
        fs.closeSync(fs.openSync(path.join(rootfsPath, f), 'a'));
    }
    // Validation keeps a cell all on the host's network or all off it; a synthesized root follows its containers.
    const hostNetwork = ctx.containers.some((c) => c.spec.hostNetwork === true);
    const volumeDir = (ref: ScopedRef) => this.volumeDir(ref);
    prepareVolumeSources(doc?.spec.volumes, ctx.ref.path[3], volumeDir);
    const base = runtimeSpec({
      role,
      container: doc?.spec,
      image: image?.config,
      cellPath: ctx.ref.path,
      etcDir: this.etcDir(ctx.ref.path),
      rootPid,
      pauseBinary,
      rootfsPath,
      hostNetwork,
      volumeDir,
      user: doc ? await this.execUser(ns, doc.spec, image, `containers.${leaf}.user`) : undefined,
      seccompProfile: this.seccompProfile(doc?.spec, `containers.${leaf}.securityOpts`),
    });
    const spec: OciSpec = await this.host.hooks.ociSpec.promise(base, { cell: ctx, role, container: doc, containerdId: id, rootPid });
    const lease = await this.client.leases
      .create(ns, { labels: { ...labels, 'containerd.io/gc.expire': new Date(Date.now() + 3600_000).toISOString() } })
      .catch((e) => Promise.reject(this.explain(e)));
    try {
      let exists = true;
      try {
        await this.client.containers.get(ns, id);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        exists = false;
      }
      if (image && !(await this.client.snapshots.tryStat(ns, this.config.snapshotter, id))) {
        await this.client.snapshots.prepare(ns, this.config.snapshotter, id, image.chainId, labels, { lease: lease.id });
      }
      const record = {
        id,
        labels,
        image: doc?.spec.image ?? '',
        runtime: { name: this.config.runtime },
        spec,
        snapshotter: image ? this.config.snapshotter : '',
        snapshot_key: image ? id : '',
      };
      if (exists) await this.client.containers.update(ns, record, ['spec', 'labels', 'image']);
      else await this.client.containers.create(ns, record, { lease: lease.id });
      const rootfs = image ? await this.client.snapshots.mounts(ns, this.config.snapshotter, id) : [];
      if (image && doc) await this.copyUpVolumes(ns, doc, image.manifestDigest);
      return { id, spec, rootfs };
    } finally {
      await this.client.leases.delete(ns, lease.id).catch(() => undefined);
    }
  }

  /** Docker's copy-up into each named volume the container mounts that is still empty (volume-copy-up.ts). */
  private async copyUpVolumes(ns: string, doc: ContainerDoc, manifestDigest: string): Promise<void> {
    for (const v of doc.spec.volumes ?? []) {
      if (v.kind !== 'volume' || !v.volumeRef) continue;
      const dir = this.volumeDir(volumeRefOf(v.volumeRef));
      if (!isEmptyDir(dir)) continue;
      const tree = await readImageDir(this.client, ns, manifestDigest, v.target).catch((e) => ({ missing: (e as Error).message }));
      if ('missing' in tree) debug('no copy-up into %s: %s', dir, tree.missing);
      else debug('copied %d entries of %s into %s', copyUp(tree, dir), v.target, dir);
    }
  }

  /**
   * A system-realm container with `restartPolicy: always` (kukeond) is supervised by containerd's restart monitor:
   * the daemon cannot watch over itself. The monitor restarts its task when it is not running, logging to its log file.
   */
  private monitored(ctx: CellContext, doc: ContainerDoc | undefined): doc is ContainerDoc {
    return ctx.ref.path[0] === SYSTEM_REALM && doc?.spec.restartPolicy === 'always';
  }

  /**
   * Where a restarted task logs. The status label is left out until kukeon's own start succeeded
   * (armRestartMonitor): the monitor drives every labelled container towards its label, so `running` would let it
   * replace a task kukeon created but has not started yet, and `stopped` would make it kill that task.
   */
  private restartMonitorLabels(ctx: CellContext, doc: ContainerDoc | undefined): Record<string, string> {
    if (!this.monitored(ctx, doc)) return {};
    return { [RESTART_LABELS.logUri]: `file://${this.logPath(ctx.ref.path, doc.metadata.name)}` };
  }

  /** From now on containerd's restart monitor keeps the (running) task running. */
  private async armRestartMonitor(ns: string, id: string): Promise<void> {
    await this.client.containers
      .update(ns, { id, labels: { [RESTART_LABELS.status]: 'running' } }, [`labels.${RESTART_LABELS.status}`])
      .catch((e) => Promise.reject(this.explain(e)));
  }

  /**
   * Takes a container kukeon is stopping away from containerd's restart monitor (no-op without its label): the
   * status label is removed, so the monitor neither brings the task back nor fights kukeon's next start.
   */
  private async holdRestartMonitor(ns: string, id: string): Promise<void> {
    let labels: Record<string, string>;
    try {
      labels = (await this.client.containers.get(ns, id)).labels ?? {};
    } catch (err) {
      if (isNotFound(err)) return;
      throw this.explain(err);
    }
    if (labels[RESTART_LABELS.status] === undefined) return;
    // a path without its key in `labels` removes that label
    await this.client.containers.update(ns, { id, labels: {} }, [`labels.${RESTART_LABELS.status}`]);
  }

  /**
   * New limits for a container of a running cell: its containerd record gets the spec rebuilt from the document
   * (so a restart keeps them), and its running task the spec's resources, applied in place by the shim's runc update.
   */
  async updateTask(ctx: CellContext, role: 'root' | 'workload', doc: ContainerDoc, rootPid: number | undefined): Promise<void> {
    const ns = await this.ensureNamespace(ctx.ref.path[0], ctx.parents.realm);
    const { id, spec } = await this.ensureContainer(ctx, ns, role, doc, rootPid);
    if ((await this.task(ns, id))?.status !== 'RUNNING') return;
    try {
      await this.client.tasks.update(ns, id, liveResources(spec.linux?.resources));
    } catch (err) {
      // runc's own words say why (a memory limit below what the container uses, on cgroup v1)
      const why = ((err as { details?: string }).details ?? (err as Error).message).replace(/\s+/g, ' ').trim();
      throw new KukeonError('KUKEON_E_STEP', `containers.${doc.metadata.name}.resources: the new limits were refused: ${why}`, {
        field: `containers.${doc.metadata.name}.resources`,
        plugin: 'containerd',
      });
    }
  }

  /** Starts (or finds running) the task of a container; stdout and stderr go to its log file, written by the shim. */
  async startTask(
    ctx: CellContext,
    role: 'root' | 'workload',
    doc: ContainerDoc | undefined,
    rootPid: number | undefined,
  ): Promise<{ id: string; pid: number; logPath?: string }> {
    const attachable = role === 'workload' && doc?.spec.attachable === true;
    if (attachable && !this.consoles) throw needsDaemon(ctx, doc!.metadata.name);
    const ns = await this.ensureNamespace(ctx.ref.path[0], ctx.parents.realm);
    const { id, rootfs } = await this.ensureContainer(ctx, ns, role, doc, rootPid);
    const logPath = doc ? this.logPath(ctx.ref.path, doc.metadata.name) : undefined;
    const consoleMeta = () => ({
      namespace: ns,
      containerdId: id,
      cellPath: [...ctx.ref.path],
      container: doc!.metadata.name,
      logPath: logPath!,
      ...(doc!.spec.terminal === false
        ? { terminal: false, stdin: doc!.spec.stdin === true, stdinOnce: doc!.spec.stdinOnce === true }
        : {}),
    });
    const existing = await this.task(ns, id);
    if (existing?.status === 'RUNNING') {
      if (this.monitored(ctx, doc)) await this.armRestartMonitor(ns, id);
      if (attachable) await this.consoles!.ensureOpen(consoleMeta(), existing.pid);
      return { id, pid: existing.pid, logPath };
    }
    // A task left CREATED or STOPPED (containerd died between create and start) is killed and deleted, and a
    // failure to do so reported: swallowed, it came back as a puzzling ALREADY_EXISTS from the create below.
    if (existing) await this.stopTask(ns, id, { signal: 'SIGKILL', timeoutMs: 0 });
    if (logPath) fs.mkdirSync(path.dirname(logPath), { recursive: true });
    const file = logPath ? `file://${logPath}` : '';
    try {
      // an attachable container's terminal goes through FIFOs kukeond reads (and writes to the log), never a file
      const io = attachable ? this.consoleIo(consoleMeta()) : { stdout: file, stderr: file };
      await this.createTask(ns, id, () => this.client.tasks.create(ns, { container_id: id, rootfs, ...io }));
      const pid = await this.client.tasks.start(ns, id);
      if (attachable) this.consoles!.started(ns, id, pid);
      if (this.monitored(ctx, doc)) await this.armRestartMonitor(ns, id);
      return { id, pid, logPath };
    } catch (err) {
      await this.client.tasks.delete(ns, id).catch(() => undefined);
      if (attachable) await this.consoles!.release(ns, id).catch(() => undefined);
      const explained = this.explain(err);
      if (isKukeonError(explained) && explained.code === 'KUKEON_E_UNAVAILABLE') throw explained;
      // containerd 1.6 forgets a task whose create it died in but may keep its bundle; one createTask could not
      // remove is named, with the reason
      const bundle = removeStaleBundle(explained.message, ns, id, containerdStartedMs(this.config.socket));
      const lost = 'left' in bundle && bundle.left !== 'not a bundle left over' ? bundle.left : undefined;
      throw new KukeonError(
        'KUKEON_E_STEP',
        `starting ${role === 'root' ? 'the root of' : `container ${doc?.metadata.name} of`} ${formatRef(ctx.ref)} failed: ${explained.message}`,
        {
          plugin: 'containerd',
          ...(lost ? { hint: `a task bundle containerd holds is in the way: ${lost}` } : {}),
        },
      );
    }
  }

  /** The task's stdio through kukeond's FIFOs: a terminal (input and output), or pipes (stdin only when kept open). */
  private consoleIo(meta: ConsoleMeta): { terminal: boolean; stdin: string; stdout: string; stderr: string } {
    const fifos = this.consoles!.prepare(meta);
    if (meta.terminal !== false) return { terminal: true, stdin: fifos.stdin, stdout: fifos.stdout, stderr: '' };
    return { terminal: false, stdin: hasStdin(meta) ? fifos.stdin : '', stdout: fifos.stdout, stderr: fifos.stderr };
  }

  /**
   * Runs `create` (tasks.create of `id`). A kuke killed while its create was under way leaves containerd finishing
   * that create on its own: meanwhile the task's bundle directory exists but the task does not, and a new create
   * fails with "file exists". Just after containerd restarts it also still cleans up the shims of tasks it lost
   * (asynchronously, one dead shim after another, which took over 10 s on a loaded 2-CPU machine): Get finds no
   * task but Create says ALREADY_EXISTS or "file exists". And when the old create's cleanup removes the bundle
   * directory while the new create starts its shim there, the shim fails with "getwd: no such file or directory".
   * Each time it waits, removes the task that was made (never started), and creates again, for up to 30 s.
   */
  private async createTask(ns: string, id: string, create: () => Promise<unknown>): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await create();
        return;
      } catch (err) {
        const leftover = isAlreadyExists(err) || /file exists|already exists|getwd: no such file or directory/.test((err as Error).message);
        if (!leftover || Date.now() >= deadline) throw err;
        // the bundle a containerd that died mid-create left (its own cleanup keeps it): removed once it is stale
        const bundle = removeStaleBundle((err as Error).message, ns, id, containerdStartedMs(this.config.socket));
        if ('removed' in bundle) debug('removed the bundle containerd left for %s/%s: %s', ns, id, bundle.removed);
      }
      await new Promise((r) => setTimeout(r, 200));
      // a task Get does not find may still be one containerd is cleaning up: Delete is asked either way
      if (await this.task(ns, id).catch(() => undefined)) await this.client.tasks.kill(ns, id, 'SIGKILL').catch(() => undefined);
      await this.client.tasks.delete(ns, id).catch(() => undefined);
    }
  }

  async task(ns: string, id: string): Promise<Process | undefined> {
    try {
      return await this.client.tasks.get(ns, id);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.explain(err);
    }
  }

  /**
   * Stops a task: the signal, up to `timeoutMs` for it to exit, then SIGKILL; the task is deleted, the container
   * and its snapshot are kept. Returns the exit status, or undefined when there was no task.
   */
  async stopTask(ns: string, id: string, stop: StopOptions): Promise<{ exitCode: number; finishTime: string } | undefined> {
    await this.holdRestartMonitor(ns, id);
    const t = await this.task(ns, id);
    if (!t) {
      await this.releaseTerminal(ns, id, undefined);
      return undefined;
    }
    if (t.status === 'RUNNING' || t.status === 'PAUSED' || t.status === 'CREATED') {
      const exited = this.client.tasks.wait(ns, id);
      exited.catch(() => undefined);
      const killed = (signal: NodeJS.Signals) =>
        this.client.tasks.kill(ns, id, signal).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
      await killed(stop.signal);
      const timedOut = await Promise.race([
        exited.then(
          () => false,
          () => false,
        ),
        new Promise<boolean>((r) => setTimeout(() => r(true), stop.timeoutMs).unref()),
      ]);
      if (timedOut) {
        await killed('SIGKILL');
        await Promise.race([exited.catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
      }
    }
    try {
      const res = await this.client.tasks.delete(ns, id);
      await this.releaseTerminal(ns, id, res.exit_status);
      return { exitCode: res.exit_status, finishTime: now() };
    } catch (err) {
      if (!isNotFound(err)) throw this.explain(err);
      await this.releaseTerminal(ns, id, undefined);
      return undefined;
    }
  }

  /** A deleted task's terminal: its clients end with its exit status, its FIFOs go (in-process: only the FIFOs). */
  private async releaseTerminal(ns: string, id: string, exitCode: number | undefined): Promise<void> {
    if (this.consoles) await this.consoles.release(ns, id, exitCode);
    else removeFifos(this.host.paths.runtimeDir, ns, id);
  }

  /** Removes a container's task, record and snapshot; absent parts are fine. */
  async removeContainer(ns: string, id: string): Promise<void> {
    await this.stopTask(ns, id, { signal: 'SIGKILL', timeoutMs: 0 });
    await this.client.containers.delete(ns, id).catch((e) => (isNotFound(e) ? undefined : Promise.reject(this.explain(e))));
    await this.client.snapshots
      .remove(ns, this.config.snapshotter, id)
      .catch((e) => (isNotFound(e) ? undefined : Promise.reject(this.explain(e))));
    fs.rmSync(this.rootfsDir(ns, id), { recursive: true, force: true });
  }

  /** A container's live status from its task. */
  async liveStatus(ns: string, id: string, saved: ContainerStatus): Promise<ContainerStatus> {
    const t = await this.task(ns, id).catch(() => 'unknown' as const);
    if (t === 'unknown') return { ...saved, state: 'Unknown' };
    if (!t) return saved.state === 'Ready' ? { ...saved, state: 'Unknown', pid: undefined } : saved;
    if (t.status === 'RUNNING') return { ...saved, state: 'Ready', pid: t.pid };
    if (t.status === 'STOPPED') {
      return {
        ...saved,
        state: 'Exited',
        pid: undefined,
        exitCode: t.exit_status,
        finishTime: t.exited_at ? new Date(Number(t.exited_at.seconds) * 1000).toISOString() : saved.finishTime,
      };
    }
    return { ...saved, state: 'Unknown' };
  }
}
