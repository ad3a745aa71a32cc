// The controller: apply, get, create, delete, purge, start, stop, refresh. It only calls hooks and services,
// takes plain data in and returns plain data out, so the daemon can serve it unchanged.

import {
  KINDS,
  KukeonError,
  childKind,
  formatRef,
  isKukeonError,
  isScopedKind,
  refOf,
  rootContainerId,
  scopeRefOf,
  toKukeonError,
} from '../../../sdk';
import type {
  AnyDoc,
  ApplyItem,
  ApplyReport,
  DoctorReport,
  GetRequest,
  ImageRequestOptions,
  ProgressEvent,
  RemovedItem,
  AnyStatus,
  CellDoc,
  CellWorkingStatus,
  ContainerStatus,
  Doc,
  Kind,
  Parents,
  PlanItem,
  PluginStatus,
  Ref,
  SecretDeleteRequest,
  SecretDoc,
  SecretListRequest,
  StopOptions,
  ScopedRef,
  StoreService,
} from '../../../sdk';
import type { AttachRequest, AttachResult, ExecRequest, ExecResult, SessionIO } from '../../../sdk';
import type { DiagnoseService, ImagePullOptions, ImagePullResult, ImageService, ImageSummary, WaitResult } from '../../../sdk/services';
import type { HostHooks } from '../hooks';
import type { IntentLocks } from '../intent-locks';
import { HostOperationScope } from '../operation-scope';
import type { HostServiceRegistry } from '../service-registry';
import type { HostStateReader } from '../state-reader';
import type { ValidateOptions } from '../validation/validate-document';
import { SYSTEM_REALM } from '../validation/names';
import { validateDocument } from '../validation/validate-document';
import { checkBindSources } from '../validation/bind-sources';
import { type VolumeManager, mountedVolumes } from '../scoped/volumes';
import { planVolumes } from '../scoped/plan-volumes';
import { applyExistingCell } from './apply-cell';
import { withContainerStatuses } from './container-statuses';
import { convergeCell } from './converge-cell';
import { changedFields, sameSpec, sameState } from './diff';
import { foldContainers, validateManifest, withParents } from './documents';
import type { PlannedDoc } from './documents';
import { DEFAULT_STOP, KILL, type Lifecycle, RUNNING_STATES } from './lifecycle';
import { failure } from './failure';
import { mapLimit } from './map-limit';
import { parseSelector } from './selector';
import { SecretOps } from '../secrets/secret-ops';
import type { SecretStore } from '../secrets/secret-store';

/** How many sibling resources apply creates and starts at once. */
const APPLY_CONCURRENCY = 4;
/** How many documents get reads the live status of at once. */
const GET_CONCURRENCY = 16;

/** What every operation may take: an AbortSignal that cancels it (a daemon client that went away). */
export interface OperationOptions {
  signal?: AbortSignal;
}

/** Per-operation options of apply and create: they travel in the request, never as plugin config. */
export interface ApplyOptions extends ImageRequestOptions, OperationOptions {
  dryRun?: boolean;
  source?: string;
  /** Allows documents of the system realm (`--force-system`; `kuke init`). */
  forceSystem?: boolean;
  /**
   * Progress for display (the daemon streams it to its client): pulls of the images the documents need and, for
   * apply, each item as it starts, changes phase and settles (first reported in the report's order).
   */
  onProgress?: (event: ProgressEvent) => void;
}

/** Delete and purge of the system realm (or anything in it) need `--force-system`. */
export interface SystemOptions extends OperationOptions {
  forceSystem?: boolean;
}

function refuseSystem(ref: Ref | ScopedRef, options: SystemOptions): void {
  if (ref.path[0] === SYSTEM_REALM && !options.forceSystem)
    throw new KukeonError(
      'KUKEON_E_SYSTEM',
      `${formatRef(ref)} is in the system realm ${SYSTEM_REALM}, managed by kuke init; nothing was removed (use --force-system, or kuke uninstall)`,
    );
}

export interface ControllerDeps {
  hooks: HostHooks;
  store: () => StoreService;
  state: HostStateReader;
  services: HostServiceRegistry;
  lifecycle: Lifecycle;
  plugins: () => PluginStatus[];
  hasRuntime: () => boolean;
  /** Subtree intent locks: cascade deletes exclusive, applies under them shared. */
  intents: IntentLocks;
  /** Named volumes (a scoped kind beside the hierarchy). */
  volumes: VolumeManager;
  secrets: SecretStore;
}

export class Controller {
  private readonly secretOps: SecretOps;

  constructor(private readonly d: ControllerDeps) {
    this.secretOps = new SecretOps(d.secrets, d.store);
  }

  private get store(): StoreService {
    return this.d.store();
  }

  /** Applies a multi-document manifest; nothing is written when any document is invalid. */
  async apply(text: string, options: ApplyOptions = {}): Promise<ApplyReport> {
    const scope = HostOperationScope.start(options.signal);
    const manifest = await validateManifest(this.d.hooks, text, options.source ?? 'input', { allowSystem: options.forceSystem });
    checkBindSources(manifest.docs, this.d.volumes.runPath);
    const folded = foldContainers(manifest.docs);
    const secrets = manifest.secrets;
    // the volumes the input declares and those its cells mount that do not exist yet (made implicitly)
    const volumes = await planVolumes(manifest.volumes, folded, this.d.volumes, { allowSystem: options.forceSystem });
    // A Secret's scope is made like any document's parents; the stand-ins that ask for it are dropped after.
    const standIns = await this.secretOps.prepare(secrets, folded);
    const docs = (await withParents([...folded, ...standIns], this.store, this.d.hooks, volumes.scopes)).filter(
      (d) => !standIns.includes(d),
    );
    if (options.dryRun)
      return { items: [], plan: [...(await this.plan(docs)), ...(await volumes.plan()), ...(await this.secretOps.plan(secrets))] };
    // Parents before children: one depth at a time; siblings of a depth are independent and run in parallel.
    const items: ApplyItem[] = [];
    const report = options.onProgress;
    const settled = (list: ApplyItem[]): ApplyItem[] => {
      for (const item of list) report?.({ kind: 'item', phase: 'settled', item });
      return list;
    };
    // a failed scope above (a failed volume or secret is no scope)
    const failedAbove = (path: readonly string[]) =>
      items.find(
        (i) =>
          i.action === 'failed' &&
          !isScopedKind(i.ref.kind) &&
          path.length > i.ref.path.length &&
          i.ref.path.every((p, k) => path[k] === p),
      );
    // A scope's Secrets are written once the scope is (a cell's: before the cell starts, its containers may need them).
    const writeSecrets = async (scopeDepth: number, cell?: readonly string[]): Promise<ApplyItem[]> => {
      // a cell's, from inside its apply: that apply holds the cell's intent already (taking it again could deadlock)
      const held = (fn: () => Promise<ApplyItem>, path: readonly string[]) => (cell ? fn() : this.d.intents.shared(path, fn));
      const out: ApplyItem[] = [];
      for (const s of secrets.filter((x) => x.scope.length === scopeDepth && (!cell || x.scope.join('/') === cell.join('/')))) {
        const above = failedAbove(s.ref.path);
        if (above)
          out.push({
            ref: s.ref,
            action: 'failed',
            error: `not applied: ${formatRef(above.ref)} failed`,
            code: 'KUKEON_E_PARENT_NOT_FOUND',
          });
        else
          out.push(
            await held(() => this.secretOps.apply(s), s.scope).catch((err) => ({
              ref: s.ref,
              action: 'failed' as const,
              ...failure(err),
            })),
          );
      }
      return out;
    };
    const cellSecrets = new Map<string, ApplyItem[]>();
    // One document of the hierarchy; its progress says what it is doing, then its item once it settles.
    const applyItem = async (d: PlannedDoc): Promise<ApplyItem> => {
      const parentFailed =
        items.find(
          (i) =>
            i.action === 'failed' &&
            !isScopedKind(i.ref.kind) &&
            d.ref.path.length > i.ref.path.length &&
            i.ref.path.every((p, k) => d.ref.path[k] === p),
        ) ?? volumes.failedFor(d.doc, items);
      const phase = (p: 'applying' | 'creating' | 'updating' | 'starting') =>
        report?.({ kind: 'item', phase: p, ref: d.ref, implicit: d.implicit });
      // first, even for an item that fails at once: each item's first event comes in the report's order
      phase('applying');
      if (parentFailed)
        return {
          ref: d.ref,
          action: 'failed',
          implicit: d.implicit,
          error: `not applied: ${formatRef(parentFailed.ref)} failed`,
          code: 'KUKEON_E_PARENT_NOT_FOUND',
        };
      try {
        // Images first, with no lock held; then the resource, its ancestors held against a cascade delete.
        let pulled = false;
        await this.ensureImages(d.doc, {
          ...options,
          onProgress:
            report &&
            ((event) => {
              if (event.kind === 'pull' && !pulled)
                report({ kind: 'item', phase: 'pulling', ref: d.ref, implicit: d.implicit, image: event.image });
              pulled ||= event.kind === 'pull';
              report(event);
            }),
        });
        if (pulled) phase('applying');
        const beforeStart = async () => void cellSecrets.set(d.ref.path.join('/'), await writeSecrets(4, d.ref.path));
        const done = await this.d.intents.shared(d.ref.path, () => this.applyOne(d, scope, beforeStart, phase));
        return { ...done, ref: d.ref, implicit: d.implicit, commit: scope.commitOf(d.ref) };
      } catch (err) {
        // A create whose taps failed has written its record (Failed): that write has a commit too.
        return { ref: d.ref, action: 'failed', implicit: d.implicit, ...failure(err), commit: scope.commitOf(d.ref) };
      }
    };
    for (let depth = 1; depth <= 5; depth++) {
      // volumes once every realm, space and stack is made, before the cells that mount them
      if (depth === 4) items.push(...settled(await volumes.apply(items, (ref, fn) => this.d.intents.shared(ref.path.slice(0, -1), fn))));
      if (depth > 1 && depth <= 4) items.push(...settled(await writeSecrets(depth - 1)));
      const level = docs.filter((d) => d.ref.path.length === depth);
      // mapLimit starts the items in order, so each one's first event comes in the report's order
      items.push(...(await mapLimit(level, APPLY_CONCURRENCY, async (d) => settled([await applyItem(d)])[0])));
      if (depth === 4) {
        for (const d of level) items.push(...settled(cellSecrets.get(d.ref.path.join('/')) ?? []));
        // the Secrets of cells that were not in the input (or whose apply failed before writing them)
        const written = new Set(items.map((i) => formatRef(i.ref)));
        items.push(...settled((await writeSecrets(4)).filter((i) => !written.has(formatRef(i.ref)))));
      }
    }
    return { items };
  }

  private async applyOne(
    d: PlannedDoc,
    scope: HostOperationScope,
    beforeStart?: () => Promise<void>,
    phase: (p: 'creating' | 'updating' | 'starting') => void = () => undefined,
  ): Promise<Omit<ApplyItem, 'ref'>> {
    const { doc, ref } = d;
    if (doc.kind === 'Container') return this.applyContainer(doc, ref, scope);
    if (doc.kind === 'Cell') {
      // Create or update, decided under the cell's lock: another process may make or delete the cell meanwhile
      // (a create over a cell made meanwhile kept its other containers; an update of one deleted failed).
      let result = await this.d.lifecycle.withLock(ref, scope, async (): Promise<Omit<ApplyItem, 'ref'>> => {
        if (!(await this.store.get(ref))) {
          phase('creating');
          await this.d.lifecycle.create(doc, ref, { scope, locked: true });
          return { action: 'created' };
        }
        const change = await applyExistingCell(this.d.lifecycle, doc, scope, true);
        return { action: change.action, changes: change.changes };
      });
      // its containers are written (a delete volume from now on sees the cell as a user): the volumes still there?
      await this.d.volumes.confirm(doc.spec.containers.flatMap((c) => mountedVolumes(c.volumes)));
      await beforeStart?.();
      if (this.d.hasRuntime()) {
        const now = await this.store.get(ref);
        if (!RUNNING_STATES.has(now?.status?.state)) {
          phase('starting');
          await this.d.lifecycle.start(ref, { scope });
          if (result.action === 'unchanged') result = { action: 'updated', changes: ['started'] };
        } else {
          // The record says it runs: the live tasks decide what is missing, not the last write.
          const started = await convergeCell(this.d.lifecycle, this.d.services.get('runtime.tasks'), ref, scope);
          if (started.length) result = { action: 'updated', changes: [...(result.changes ?? []), ...started] };
        }
      }
      return result;
    }
    if (d.implicit) {
      // Made only where nothing is, and decided under its lock: another operation may have made it (with a spec
      // of its own) since this one was planned, and an implicit parent must never replace it.
      return this.d.lifecycle.withLock(ref, scope, async (): Promise<Omit<ApplyItem, 'ref'>> => {
        const current = await this.store.get(ref);
        if (current?.status?.state === 'Ready') return { action: 'unchanged' };
        if (current) {
          // made by a create that never reached Ready: its own record's create runs again (never the implicit doc)
          phase('updating');
          await this.d.lifecycle.create({ ...current, status: undefined } as AnyDoc, ref, { scope, locked: true });
          return { action: 'updated', changes: ['status.state'] };
        }
        phase('creating');
        await this.d.lifecycle.create(doc, ref, { scope, locked: true });
        return { action: 'created' };
      });
    }
    const current = await this.store.get(ref);
    if (!current) {
      phase('creating');
      await this.d.lifecycle.create(doc, ref, { scope });
      return { action: 'created' };
    }
    const changes = [
      ...changedFields('spec', current.spec as never, doc.spec as never),
      ...changedFields('metadata', current.metadata as never, doc.metadata as never),
    ];
    // A create that never reached Ready (killed after its taps, before the status write; or failed) runs again:
    // create taps are idempotent, and without them a space would stay without its network.
    if (changes.length === 0 && current.status?.state === 'Ready') return { action: 'unchanged' };
    phase('updating');
    await this.d.lifecycle.create(doc, ref, { scope });
    return { action: 'updated', changes: changes.length ? changes : ['status.state'] };
  }

  /** A standalone Container document: adds or replaces that container in its (stored) cell. */
  private async applyContainer(doc: Doc<'Container'>, ref: Ref, scope: HostOperationScope): Promise<Omit<ApplyItem, 'ref'>> {
    const cellRef: Ref = { kind: 'Cell', path: ref.path.slice(0, 4) };
    // Read, merge and write under the cell's lock: a cell read before it and written after would undo what
    // another operation wrote in between (its labels, its containers).
    const item = await this.d.lifecycle.withLock(cellRef, scope, async (): Promise<Omit<ApplyItem, 'ref'>> => {
      const loaded = await this.d.lifecycle.loadCell(cellRef);
      if (!loaded) throw new KukeonError('KUKEON_E_PARENT_NOT_FOUND', `${formatRef(cellRef)} does not exist`);
      const { realmId: _r, spaceId: _s, stackId: _t, cellId: _c, ...own } = doc.spec;
      const containers = loaded.cell.spec.containers.filter((c) => c.id !== own.id);
      const existed = containers.length !== loaded.cell.spec.containers.length;
      const desired: CellDoc = { ...loaded.cell, spec: { ...loaded.cell.spec, containers: [...containers, own] } };
      const checked = validateDocument(desired, 1, { allowSystem: cellRef.path[0] === SYSTEM_REALM }).doc as CellDoc;
      const change = await applyExistingCell(this.d.lifecycle, checked, scope, true);
      if (change.action !== 'unchanged') scope.committed(ref, scope.commitOf(cellRef)); // committed with its cell
      return { action: change.action === 'unchanged' ? 'unchanged' : existed ? 'updated' : 'created', changes: change.changes };
    });
    await this.d.volumes.confirm(mountedVolumes(doc.spec.volumes));
    return item;
  }

  /** What apply would do: kukeon's own create/update/unchanged, then each plugin's additions (plan waterfall). */
  private async plan(docs: PlannedDoc[]): Promise<PlanItem[]> {
    const current: (AnyDoc | undefined)[] = [];
    const items: PlanItem[] = [];
    for (const d of docs) {
      let cur: AnyDoc | undefined = await this.store.get(d.ref);
      if (cur?.kind === 'Cell') cur = (await this.d.lifecycle.loadCell(d.ref))?.cell;
      current.push(cur);
      if (!cur) items.push({ ref: d.ref, by: 'kukeon', action: 'create', detail: d.implicit ? 'implicit parent' : undefined });
      else if (d.implicit || (sameSpec(cur.spec, d.doc.spec) && sameSpec(cur.metadata, d.doc.metadata)))
        items.push({ ref: d.ref, by: 'kukeon', action: 'unchanged' });
      else
        items.push({
          ref: d.ref,
          by: 'kukeon',
          action: 'update',
          detail: changedFields('spec', cur.spec as never, d.doc.spec as never).join(', '),
        });
    }
    return (await this.d.hooks.plan.promise(items, { docs: docs.map((d) => d.doc), current })) as PlanItem[];
  }

  /** `create realm|space|stack|cell`: the parent must exist; an identical resource is left unchanged. */
  async create(raw: AnyDoc, options: ValidateOptions & ApplyOptions = {}): Promise<ApplyItem> {
    const scope = HostOperationScope.start(options.signal);
    const { doc, ref } = validateDocument(raw, 1, options);
    const refused = await this.d.hooks.validate.promise({ doc, index: 1, ref });
    if (refused) throw refused;
    const parent = ref.path.length > 1 ? { kind: KINDS[ref.path.length - 2], path: ref.path.slice(0, -1) } : undefined;
    if (parent && !(await this.store.get(parent))) {
      throw new KukeonError(
        'KUKEON_E_PARENT_NOT_FOUND',
        `${formatRef(parent)} does not exist; create it first (or use apply, which creates parents)`,
      );
    }
    checkBindSources([{ index: 1, doc }], this.d.volumes.runPath);
    if (doc.kind === 'Container') return this.createContainer(doc, ref, options);
    // create makes nothing implicitly: the volumes a cell mounts must exist, as its parent must
    for (const c of doc.kind === 'Cell' ? doc.spec.containers : [])
      for (const v of mountedVolumes(c.volumes))
        if (!(await this.d.volumes.docs.get(v)))
          throw new KukeonError(
            'KUKEON_E_PARENT_NOT_FOUND',
            `${formatRef(v)} does not exist; create it first (or use apply, which makes it)`,
          );
    const current = doc.kind === 'Cell' ? (await this.d.lifecycle.loadCell(ref))?.cell : await this.store.get(ref);
    if (current) {
      if (sameSpec(current.spec, doc.spec)) return { ref, action: 'unchanged' };
      throw new KukeonError('KUKEON_E_EXISTS', `${formatRef(ref)} already exists with another spec; use apply to change it`);
    }
    if (doc.kind === 'Cell') await this.ensureImages(doc, options);
    await this.d.intents.shared(ref.path, () => this.d.lifecycle.create(doc, ref, { scope }));
    if (doc.kind === 'Cell') await this.d.volumes.confirm(doc.spec.containers.flatMap((c) => mountedVolumes(c.volumes)));
    return { ref, action: 'created', commit: scope.commitOf(ref) };
  }

  /**
   * `docker create`: adds a container to its stored cell without starting it (`start` with its ref does), even in a
   * running cell. An identical container is left unchanged; another one of that name is refused.
   */
  private async createContainer(doc: Doc<'Container'>, ref: Ref, options: ValidateOptions & ApplyOptions): Promise<ApplyItem> {
    const scope = HostOperationScope.start(options.signal);
    for (const v of mountedVolumes(doc.spec.volumes))
      if (!(await this.d.volumes.docs.get(v)))
        throw new KukeonError(
          'KUKEON_E_PARENT_NOT_FOUND',
          `${formatRef(v)} does not exist; create it first (or use apply, which makes it)`,
        );
    await this.ensureImages(doc, options);
    const cellRef: Ref = { kind: 'Cell', path: ref.path.slice(0, 4) };
    const action = await this.d.intents.shared(ref.path, () =>
      this.d.lifecycle.withLock(cellRef, scope, async (): Promise<ApplyItem['action']> => {
        const loaded = await this.d.lifecycle.loadCell(cellRef);
        if (!loaded) throw new KukeonError('KUKEON_E_PARENT_NOT_FOUND', `${formatRef(cellRef)} does not exist`);
        const { realmId: _r, spaceId: _s, stackId: _t, cellId: _c, ...own } = doc.spec;
        const existing = loaded.cell.spec.containers.find((c) => c.id === own.id);
        if (existing) {
          if (sameSpec(existing, own)) return 'unchanged';
          throw new KukeonError('KUKEON_E_EXISTS', `${formatRef(ref)} already exists with another spec; delete it first`);
        }
        const desired: CellDoc = { ...loaded.cell, spec: { ...loaded.cell.spec, containers: [...loaded.cell.spec.containers, own] } };
        const checked = validateDocument(desired, 1, { allowSystem: options.allowSystem }).doc as CellDoc;
        await applyExistingCell(this.d.lifecycle, checked, scope, true, { startAdded: false });
        return 'created';
      }),
    );
    if (action === 'unchanged') return { ref, action };
    await this.d.volumes.confirm(mountedVolumes(doc.spec.volumes));
    return { ref, action, commit: scope.commitOf(cellRef) };
  }

  /** Removes one container from its cell (stopped first when it runs); the cell and its other containers stay. */
  private async deleteContainer(ref: Ref, scope: HostOperationScope): Promise<RemovedItem[]> {
    const cellRef: Ref = { kind: 'Cell', path: ref.path.slice(0, 4) };
    return this.d.lifecycle.withLock(cellRef, scope, async () => {
      const loaded = await this.d.lifecycle.loadCell(cellRef);
      const id = ref.path[4];
      if (!loaded?.cell.spec.containers.some((c) => c.id === id))
        throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
      if (rootContainerId(loaded.cell.spec) === id)
        throw new KukeonError('KUKEON_E_USAGE', `${formatRef(ref)} is its cell's root: delete the cell`);
      const desired: CellDoc = {
        ...loaded.cell,
        spec: { ...loaded.cell.spec, containers: loaded.cell.spec.containers.filter((c) => c.id !== id) },
      };
      await applyExistingCell(this.d.lifecycle, desired, scope, true);
      return [{ ref, warnings: [], commit: scope.commitOf(cellRef) }];
    });
  }

  /**
   * Pulls or checks every image a cell (or container) document names, before any phase lock is taken: a slow
   * pull must not hold the cell's lock. Without a runtime there is nothing to pull into.
   */
  private async ensureImages(doc: AnyDoc, options: ApplyOptions): Promise<void> {
    const images = this.d.hasRuntime() ? this.d.services.get('runtime.images') : undefined;
    if (!images?.ensure) return;
    const specs = doc.kind === 'Cell' ? doc.spec.containers : doc.kind === 'Container' ? [doc.spec] : [];
    const realm = (doc.spec as { realmId: string }).realmId;
    const wanted = [...new Set(specs.map((c) => c.image).filter((i): i is string => !!i))];
    for (const image of wanted) {
      await images.ensure(realm, image, {
        policy: options.pull ?? 'missing',
        credentials: options.credentials,
        signal: options.signal,
        onProgress: options.onProgress && ((event) => options.onProgress?.({ kind: 'pull', image, event })),
      });
    }
  }

  async get(query: GetRequest): Promise<AnyDoc[]> {
    if (query.kind === 'Volume') return this.getVolumes(query);
    // values hidden, as `kuke get secrets` without --show-values (listSecrets is the verb that can show them)
    if (query.kind === 'Secret') return (await this.secretOps.list({ ...query, showValues: false })) as unknown as AnyDoc[];
    if (!KINDS.includes(query.kind)) throw new KukeonError('KUKEON_E_USAGE', `get: unknown kind "${query.kind}"`);
    const q = query as GetRequest & { kind: Kind };
    if (query.allRealms) {
      const scopes = await this.scopesOf(q.kind);
      return (await mapLimit(scopes, 4, (scope) => this.getIn({ ...q, allRealms: false, scope }))).flat();
    }
    const docs = await this.getIn(q);
    // The system realm is kukeon's own: listed with -A, or when asked for by name.
    return query.kind === 'Realm' && query.name === undefined ? docs.filter((d) => d.metadata.name !== SYSTEM_REALM) : docs;
  }

  /** Volumes at the scope and below it (every realm with allRealms); as documents of the hierarchy's shape for the wire. */
  private async getVolumes(query: GetRequest): Promise<AnyDoc[]> {
    const match = query.selector ? parseSelector(query.selector) : () => true;
    let docs = await this.d.volumes.list(query.allRealms ? [] : query.scope);
    if (query.name !== undefined) {
      docs = docs.filter(
        (d) => d.metadata.name === query.name && d.metadata.space === query.scope[1] && d.metadata.stack === query.scope[2],
      );
      if (docs.length === 0)
        throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef({ kind: 'Volume', path: [...query.scope, query.name] })} not found`);
    }
    return docs.filter((d) => match(d.metadata.labels ?? {})) as unknown as AnyDoc[];
  }

  private async getIn(query: GetRequest & { kind: Kind }): Promise<AnyDoc[]> {
    const match = query.selector ? parseSelector(query.selector) : () => true;
    let docs: AnyDoc[];
    if (query.kind === 'Container' && query.scope.length === 3) {
      docs = [];
      for (const cell of await this.store.list('Cell', query.scope))
        docs.push(...(await this.store.list('Container', [...query.scope, cell.metadata.name])));
    } else {
      docs = await this.store.list(query.kind, query.scope);
    }
    if (query.name !== undefined) {
      docs = docs.filter((d) => d.metadata.name === query.name);
      if (docs.length === 0)
        throw new KukeonError('KUKEON_E_NOT_FOUND', `${query.kind.toLowerCase()}/${[...query.scope, query.name].join('/')} not found`);
    }
    // Live status per document, several at a time: each one is a few store reads and the backends' status taps.
    // The documents of one scope share their parents: read once per call.
    const parents = new Map<string, Promise<Parents>>();
    const parentsOf = (ref: Ref) => {
      const key = ref.path.slice(0, -1).join('/');
      let p = parents.get(key);
      if (!p) parents.set(key, (p = this.d.state.parents(ref)));
      return p;
    };
    return mapLimit(
      docs.filter((d) => match(d.metadata.labels)),
      GET_CONCURRENCY,
      async (doc) => {
        const live = await this.liveWithContainers(doc, 'get', parentsOf, doc.kind === 'Cell' ? doc : undefined);
        return live.doc.kind === 'Cell' ? withContainerStatuses(live.doc, live.containers) : live.doc;
      },
    );
  }

  /** Every parent path under which `kind` lives: `[[]]` for realms; each stack's path for cells and containers. */
  private async scopesOf(kind: Kind): Promise<string[][]> {
    const depth = kind === 'Container' ? 3 : KINDS.indexOf(kind);
    let scopes: string[][] = [[]];
    for (let level = 0; level < depth; level++) {
      const next: string[][] = [];
      for (const scope of scopes) for (const d of await this.store.list(KINDS[level], scope)) next.push([...scope, d.metadata.name]);
      scopes = next;
    }
    return scopes;
  }

  /** For a cell, also each container's live status (the cell's status waterfall carries them). */
  private async liveWithContainers(
    doc: AnyDoc,
    purpose: 'get' | 'refresh' = 'get',
    parentsOf: (ref: Ref) => Promise<Parents> = (ref) => this.d.state.parents(ref),
    /** The cell's own document as just listed, so it is not read again. */
    listedCell?: CellDoc,
  ): Promise<{ doc: AnyDoc; containers: Record<string, ContainerStatus> }> {
    const ref = refOf(doc);
    if (doc.kind === 'Cell') {
      const loaded = await this.d.lifecycle.loadCell(ref, listedCell);
      if (!loaded) return { doc, containers: {} };
      const status = {
        ...(loaded.cell.status ?? {}),
        containers: Object.fromEntries(loaded.containers.map((c) => [c.metadata.name, { ...(c.status ?? {}) }])),
      };
      const next = (await this.d.hooks.status.for('Cell').promise(status, {
        ref,
        doc: loaded.cell,
        parents: await parentsOf(ref),
        purpose,
      })) as CellWorkingStatus;
      const { containers, ...own } = next;
      return { doc: { ...loaded.cell, status: own }, containers: containers ?? {} };
    }
    const status = (await this.d.hooks.status
      .for(doc.kind)
      .promise({ ...(doc.status ?? {}) }, { ref, doc, parents: await parentsOf(ref), purpose })) as AnyStatus;
    return { doc: { ...doc, status } as AnyDoc, containers: {} };
  }

  /** Deletes a resource; realms, spaces and stacks with children need `cascade`. Children go before parents. */
  async delete(ref: Ref | ScopedRef, options: { cascade?: boolean; force?: boolean } & SystemOptions = {}): Promise<RemovedItem[]> {
    refuseSystem(ref, options);
    if (ref.kind === 'Volume') {
      const volume = ref as ScopedRef;
      return this.d.intents.shared(scopeRefOf(volume).path, async () => [await this.d.volumes.delete(volume)]);
    }
    if (ref.kind === 'Secret') return this.deleteSecret({ ref: ref as ScopedRef, forceSystem: options.forceSystem });
    if (!KINDS.includes(ref.kind)) throw new KukeonError('KUKEON_E_USAGE', `cannot delete a ${ref.kind}`);
    if (ref.kind === 'Container')
      return this.d.intents.shared(ref.path, () => this.deleteContainer(ref as Ref, HostOperationScope.start(options.signal)));
    // Held against applies under it for the whole delete, so none of them vanishes half-made (intent-locks.ts).
    return this.d.intents.exclusive(ref.path, () => this.deleteIn(HostOperationScope.start(options.signal), ref as Ref, options));
  }

  private async deleteIn(scope: HostOperationScope, ref: Ref, options: { cascade?: boolean; force?: boolean }): Promise<RemovedItem[]> {
    if (!(await this.store.get(ref))) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
    await this.refuseChildren(ref, options.cascade);
    const out: RemovedItem[] = [];
    const secrets = ref.kind === 'Container' ? [] : await this.secretOps.under(ref.path);
    try {
      await this.deleteTree(ref, !!options.force, scope, out);
      out.push(...secrets); // they went with their scopes' directories
    } catch (err) {
      // A cascade that fails midway has removed some children for good: the error says which.
      const e = toKukeonError(err);
      if (out.length) e.details.removed = out.map((i) => ({ ref: formatRef(i.ref), commit: i.commit }));
      throw e;
    }
    return out;
  }

  private async refuseChildren(ref: Ref, cascade: boolean | undefined): Promise<void> {
    const child = ref.kind === 'Cell' || ref.kind === 'Container' ? undefined : childKind(ref.kind);
    if (!child || cascade) return;
    const children = await this.store.list(child, ref.path);
    if (children.length) {
      throw new KukeonError(
        'KUKEON_E_HAS_CHILDREN',
        `${formatRef(ref)} has ${children.length} ${child.toLowerCase()}(s): ${children.map((c) => c.metadata.name).join(', ')}; nothing was removed (use --cascade to delete them too)`,
      );
    }
    const volumes = await this.d.volumes.at(ref);
    if (volumes.length)
      throw new KukeonError(
        'KUKEON_E_HAS_CHILDREN',
        `${formatRef(ref)} has ${volumes.length} volume(s): ${volumes.map((v) => v.metadata.name).join(', ')}; nothing was removed (use --cascade to delete them too, as their reclaimPolicy says)`,
      );
  }

  /** Removes `ref` and what is under it, children first, adding each removal to `out` as it is done. */
  private async deleteTree(ref: Ref, force: boolean, scope: HostOperationScope, out: RemovedItem[], top = true): Promise<void> {
    const child = ref.kind === 'Cell' ? undefined : childKind(ref.kind);
    if (child)
      for (const c of await this.store.list(child, ref.path))
        await this.deleteTree({ kind: child, path: [...ref.path, c.metadata.name] }, force, scope, out, false);
    // Another process may have applied a child here after the listing (intent locks are per process): its cell
    // would be running in this level's cgroup and network. Refuse as a child found, before any backend step.
    const appeared = child ? await this.store.list(child, ref.path) : [];
    if (appeared.length)
      throw new KukeonError(
        'KUKEON_E_HAS_CHILDREN',
        `${formatRef(ref)} got ${appeared.length} new ${child!.toLowerCase()}(s) while it was being deleted: ${appeared.map((c) => c.metadata.name).join(', ')}; it was left in place (delete it again)`,
      );
    // its volumes before its directory goes: Retain moves their data out of it
    if (child) out.push(...(await this.d.volumes.releaseScope(ref)));
    let warnings: string[];
    try {
      warnings = await this.d.lifecycle.remove(ref, { force, scope });
    } catch (err) {
      // A child that another operation deleted after this cascade listed it is gone, as asked: the cascade goes on
      // (intent locks do not keep two deletes of nested resources apart, and other processes take none).
      if (!top && isKukeonError(err) && err.code === 'KUKEON_E_NOT_FOUND' && !(await this.store.get(ref))) return;
      throw err;
    }
    out.push({ ref, warnings, commit: scope.commitOf(ref) });
  }

  /** `delete -f`: the documents of a manifest, children first; a missing one is reported and the rest go on. */
  async deleteDocuments(
    text: string,
    options: { cascade?: boolean; force?: boolean; source?: string } & SystemOptions = {},
  ): Promise<(RemovedItem & { error?: string })[]> {
    const scope = HostOperationScope.start(options.signal);
    const { docs, volumes, secrets } = await validateManifest(this.d.hooks, text, options.source ?? 'input', {
      allowSystem: options.forceSystem,
    });
    const out: RemovedItem[] = [];
    for (const s of secrets) {
      try {
        out.push(...(await this.secretOps.delete(s.ref)));
      } catch (err) {
        out.push({ ref: s.ref, warnings: [], error: toKukeonError(err).describe() });
      }
    }
    const deleteVolumes = async () => {
      for (const v of volumes) {
        try {
          out.push(...(await this.delete(v.ref, options)));
        } catch (err) {
          out.push({ ref: v.ref, warnings: [], error: toKukeonError(err).describe() });
        }
      }
    };
    const sorted = [...docs].sort((a, b) => b.ref.path.length - a.ref.path.length);
    // volumes after the cells that mount them, before the scopes they are in
    if (!sorted.some((d) => d.ref.path.length >= 4)) await deleteVolumes();
    for (const [n, d] of sorted.entries()) {
      try {
        if (d.doc.kind === 'Container') {
          out.push({ ref: d.ref, warnings: [], ...(await this.removeContainer(d.ref, scope)) });
          continue;
        }
        out.push(...(await this.deleteIn(scope, d.ref, options)));
      } catch (err) {
        out.push({ ref: d.ref, warnings: [], error: toKukeonError(err).describe() });
      } finally {
        if (d.ref.path.length >= 4 && (sorted[n + 1]?.ref.path.length ?? 0) < 4) await deleteVolumes();
      }
    }
    return out;
  }

  private async removeContainer(ref: Ref, scope: HostOperationScope): Promise<{ error?: string }> {
    const cellRef: Ref = { kind: 'Cell', path: ref.path.slice(0, 4) };
    // Under the cell's lock, as applyContainer: the cell read is the cell written back.
    return this.d.lifecycle.withLock(cellRef, scope, async () => {
      const loaded = await this.d.lifecycle.loadCell(cellRef);
      const id = ref.path[4];
      if (!loaded?.cell.spec.containers.some((c) => c.id === id)) return { error: `${formatRef(ref)} not found` };
      const containers = loaded.cell.spec.containers.filter((c) => c.id !== id);
      if (containers.length === 0) return { error: `${formatRef(ref)} is the cell's last container; delete the cell instead` };
      const desired = validateDocument({ ...loaded.cell, spec: { ...loaded.cell.spec, containers } }, 1, {
        allowSystem: ref.path[0] === SYSTEM_REALM,
      }).doc as CellDoc;
      await applyExistingCell(this.d.lifecycle, desired, scope, true);
      return {};
    });
  }

  /**
   * Purge: delete, then every plugin sweeps residual state (by label, by name) even where the YAML no longer
   * knows the resource. Succeeds when parts are already gone; backend errors are collected and reported at the end.
   */
  async purge(ref: Ref, options: { cascade?: boolean } & SystemOptions = {}): Promise<RemovedItem[]> {
    refuseSystem(ref, options);
    return this.d.intents.exclusive(ref.path, () => this.purgeIn(ref, options));
  }

  private async purgeIn(ref: Ref, options: { cascade?: boolean } & OperationOptions): Promise<RemovedItem[]> {
    const scope = HostOperationScope.start(options.signal);
    let exists = false;
    try {
      exists = !!(await this.store.get(ref));
    } catch {
      exists = true; // an unreadable record is still something to purge
    }
    if (exists) await this.refuseChildren(ref, options.cascade);
    const out = await this.purgeTree(ref, scope);
    const errors = out.flatMap((i) => i.warnings);
    if (errors.length) throw new KukeonError('KUKEON_E_STEP', `purge finished with errors: ${errors.join('; ')}`);
    return out;
  }

  private async purgeTree(ref: Ref, scope: HostOperationScope): Promise<RemovedItem[]> {
    const out: RemovedItem[] = [];
    const child = ref.kind === 'Cell' ? undefined : childKind(ref.kind);
    if (child) {
      const children = await this.store.list(child, ref.path).catch(() => []);
      for (const c of children) out.push(...(await this.purgeTree({ kind: child, path: [...ref.path, c.metadata.name] }, scope)));
      try {
        out.push(...(await this.d.volumes.releaseScope(ref, { ignoreUsers: true })));
      } catch (err) {
        out.push({ ref, warnings: [`${formatRef(ref)}: ${toKukeonError(err).message}`] });
      }
    }
    const warnings = await this.d.lifecycle.withLock(ref, scope, async () => {
      const errors: string[] = [];
      const note = (err: unknown) => errors.push(`${formatRef(ref)}: ${isKukeonError(err) ? err.message : (err as Error).message}`);
      let doc: AnyDoc | undefined;
      try {
        doc = ref.kind === 'Cell' ? (await this.d.lifecycle.loadCell(ref))?.cell : await this.store.get(ref);
        if (doc) errors.push(...(await this.d.lifecycle.remove(ref, { force: true, locked: true, scope })));
      } catch (err) {
        note(err);
      }
      try {
        await this.d.lifecycle.sweep(ref, doc, { scope });
      } catch (err) {
        note(err);
      }
      scope.throwIfAborted(); // the sweep's errors are reported, an abort keeps the record for the next purge
      await this.d.lifecycle.refuseNewChildren(ref);
      scope.committed(ref, await this.store.remove(ref, { childless: true }));
      return errors;
    });
    out.push({ ref, warnings, commit: scope.commitOf(ref) });
    return out;
  }

  async start(ref: Ref, options: OperationOptions = {}): Promise<void> {
    if (ref.kind === 'Container') return this.d.lifecycle.startContainer(ref, { scope: HostOperationScope.start(options.signal) });
    await this.refuseUnownedTerminals(ref);
    await this.d.lifecycle.start(ref, { scope: HostOperationScope.start(options.signal) });
  }

  /**
   * A cell with an attachable container starts only where something owns its terminal (kukeond's runtime.console):
   * refused before anything is stopped, started or recorded.
   */
  private async refuseUnownedTerminals(ref: Ref): Promise<void> {
    if (!this.d.hasRuntime() || this.d.services.get('runtime.console')) return;
    const loaded = await this.d.lifecycle.loadCell(ref);
    const attachable = loaded?.cell.spec.containers.find((c) => c.attachable && c.id !== rootContainerId(loaded.cell.spec));
    if (attachable)
      throw new KukeonError(
        'KUKEON_E_NEEDS_DAEMON',
        `container ${attachable.id} of ${formatRef(ref)} is attachable: its terminal is owned by kukeond, so it starts only through the daemon`,
        { hint: 'start kukeond (kuke daemon start, or kuke init) and run kuke without --no-daemon or --run-path' },
      );
  }

  async stop(ref: Ref, options: StopOptions = DEFAULT_STOP, op: OperationOptions = {}): Promise<void> {
    if (ref.kind === 'Container') return this.d.lifecycle.stopContainer(ref, { stop: options, scope: HostOperationScope.start(op.signal) });
    await this.d.lifecycle.stop(ref, { stop: options, scope: HostOperationScope.start(op.signal), byUser: true });
  }

  async kill(ref: Ref, op: OperationOptions = {}): Promise<void> {
    if (ref.kind === 'Container') return this.d.lifecycle.stopContainer(ref, { stop: KILL, scope: HostOperationScope.start(op.signal) });
    await this.d.lifecycle.stop(ref, { stop: KILL, scope: HostOperationScope.start(op.signal), byUser: true });
  }

  async restart(ref: Ref, options: StopOptions = DEFAULT_STOP, op: OperationOptions = {}): Promise<void> {
    if (!this.d.hasRuntime()) throw new KukeonError('KUKEON_E_NO_RUNTIME', `cannot restart ${formatRef(ref)}: no runtime plugin is loaded`);
    await this.refuseUnownedTerminals(ref);
    const scope = HostOperationScope.start(op.signal);
    await this.d.lifecycle.stop(ref, { stop: options, scope });
    await this.d.lifecycle.start(ref, { scope });
  }

  /** Writes every resource's live status; returns how many were inspected and how many changed. */
  async refresh(options: OperationOptions = {}): Promise<{ inspected: number; updated: number }> {
    const operation = HostOperationScope.start(options.signal);
    let inspected = 0;
    let updated = 0;
    const walk = async (kind: Kind, scope: string[]): Promise<void> => {
      for (const doc of await this.store.list(kind, scope)) {
        operation.throwIfAborted();
        inspected += 1;
        const ref = refOf(doc);
        const { doc: live, containers } = await this.liveWithContainers(doc, 'refresh');
        const changed: Ref[] = [];
        if (!sameState(doc.status, live.status)) changed.push(ref);
        const saved = doc.kind === 'Cell' ? await this.store.list('Container', ref.path) : [];
        for (const c of saved)
          if (containers[c.metadata.name] && !sameState(c.status, containers[c.metadata.name]))
            changed.push({ kind: 'Container', path: [...ref.path, c.metadata.name] });
        if (changed.length) {
          await this.d.lifecycle.withLock(ref, operation, async () => {
            for (const r of changed) {
              const status = r.kind === 'Container' ? containers[r.path[4]] : live.status;
              await this.store.update(r, (cur) => (cur ? ({ ...cur, status: { ...cur.status, ...status } } as AnyDoc) : undefined));
            }
          });
          updated += changed.length;
        }
        const next = childKind(kind);
        if (next && next !== 'Container') await walk(next, [...scope, doc.metadata.name]);
      }
    };
    await walk('Realm', []);
    return { inspected, updated };
  }

  private service<N extends 'runtime.images' | 'runtime.logs' | 'runtime.wait' | 'runtime.exec'>(name: N) {
    const svc = this.d.services.get(name);
    if (!svc)
      throw new KukeonError('KUKEON_E_NO_RUNTIME', `no runtime plugin provides ${name} (configure containerd; see kuke plugins ls)`);
    return svc;
  }

  async loadImage(realm: string, archive: NodeJS.ReadableStream): Promise<ImageSummary[]> {
    if (!(await this.store.get({ kind: 'Realm', path: [realm] }))) throw new KukeonError('KUKEON_E_NOT_FOUND', `realm/${realm} not found`);
    return this.service('runtime.images').load(realm, archive);
  }

  async listImages(realm: string): Promise<ImageSummary[]> {
    if (!(await this.store.get({ kind: 'Realm', path: [realm] }))) throw new KukeonError('KUKEON_E_NOT_FOUND', `realm/${realm} not found`);
    return this.service('runtime.images').list(realm);
  }

  /** The image service's optional verbs (pull, remove, prune), refused clearly when the runtime lacks them. */
  private imageVerb<V extends 'pull' | 'remove' | 'prune'>(verb: V): NonNullable<ImageService[V]> {
    const svc = this.service('runtime.images');
    const fn = svc[verb];
    if (!fn) throw new KukeonError('KUKEON_E_NO_RUNTIME', `the runtime plugin's runtime.images has no ${verb}`);
    return fn.bind(svc) as NonNullable<ImageService[V]>;
  }

  async pullImage(realm: string, ref: string, opts: ImagePullOptions = {}): Promise<ImagePullResult> {
    if (!(await this.store.get({ kind: 'Realm', path: [realm] }))) throw new KukeonError('KUKEON_E_NOT_FOUND', `realm/${realm} not found`);
    return this.imageVerb('pull')(realm, ref, opts);
  }

  async removeImage(realm: string, ref: string): Promise<void> {
    if (!(await this.store.get({ kind: 'Realm', path: [realm] }))) throw new KukeonError('KUKEON_E_NOT_FOUND', `realm/${realm} not found`);
    return this.imageVerb('remove')(realm, ref);
  }

  async pruneImages(realm: string): Promise<string[]> {
    if (!(await this.store.get({ kind: 'Realm', path: [realm] }))) throw new KukeonError('KUKEON_E_NOT_FOUND', `realm/${realm} not found`);
    return this.imageVerb('prune')(realm);
  }

  /** The container a log or wait is about: the named one, else the cell's single workload. */
  async workload(ref: Ref, container?: string): Promise<string> {
    const loaded = await this.d.lifecycle.loadCell(ref);
    if (!loaded) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
    const ids = loaded.containers.map((c) => c.metadata.name);
    if (container !== undefined) {
      if (!ids.includes(container))
        throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} has no container "${container}" (it has: ${ids.join(', ')})`);
      return container;
    }
    const rootId = loaded.cell.spec.rootContainerId ?? loaded.cell.spec.containers.find((c) => c.root)?.id;
    const workloads = ids.filter((id) => id !== rootId);
    if (workloads.length === 1) return workloads[0];
    if (workloads.length === 0 && rootId) return rootId;
    throw new KukeonError(
      'KUKEON_E_USAGE',
      `${formatRef(ref)} has ${workloads.length} workloads (${workloads.join(', ')}); choose one with --container`,
    );
  }

  async logPath(ref: Ref, container?: string): Promise<{ container: string; path: string }> {
    const id = await this.workload(ref, container);
    return { container: id, path: this.service('runtime.logs').path(ref.path, id) };
  }

  async wait(ref: Ref, container: string, signal?: AbortSignal): Promise<WaitResult> {
    return this.service('runtime.wait').wait(ref.path, container, signal);
  }

  /** `kuke exec`: a process in the chosen container (the named one, else the single workload). */
  async exec(req: ExecRequest, io: SessionIO, signal?: AbortSignal): Promise<ExecResult> {
    const container = await this.workload(req.ref, req.container);
    const { command, env, user, workdir, tty, stdin, size } = req;
    return this.service('runtime.exec').exec(req.ref.path, container, { command, env, user, workdir, tty, stdin, size }, io, signal);
  }

  /** `kuke attach`: the named container, else the cell's `spec.tty.default`, else its single attachable container. */
  async attach(req: AttachRequest, io: SessionIO, signal?: AbortSignal): Promise<AttachResult> {
    const loaded = await this.d.lifecycle.loadCell(req.ref);
    if (!loaded) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(req.ref)} not found`);
    const attachable = loaded.cell.spec.containers.filter((c) => c.attachable).map((c) => c.id);
    let container = req.container ?? loaded.cell.spec.tty?.default;
    if (container === undefined) {
      if (attachable.length !== 1)
        throw new KukeonError(
          'KUKEON_E_USAGE',
          attachable.length
            ? `${formatRef(req.ref)} has ${attachable.length} attachable containers (${attachable.join(', ')}); choose one with --container`
            : `${formatRef(req.ref)} has no attachable container (set attachable: true on one, or use kuke exec -it)`,
        );
      container = attachable[0];
    }
    if (!attachable.includes(container))
      throw new KukeonError(
        'KUKEON_E_USAGE',
        `${formatRef(req.ref)}: container "${container}" is not attachable${attachable.length ? ` (attachable: ${attachable.join(', ')})` : ''}`,
      );
    const console = this.d.services.get('runtime.console');
    if (!console)
      throw new KukeonError(
        'KUKEON_E_NEEDS_DAEMON',
        `attaching to ${formatRef(req.ref)} needs kukeond, which owns the containers' terminals`,
        {
          hint: 'start it (kuke daemon start, or kuke init) and run kuke without --no-daemon',
        },
      );
    return console.attach(req.ref.path, container, io, { stdin: req.stdin, size: req.size }, signal);
  }

  /** `kuke get secrets`: values only with `showValues`. */
  listSecrets(req: SecretListRequest): Promise<SecretDoc[]> {
    return this.secretOps.list(req);
  }

  async deleteSecret(req: SecretDeleteRequest): Promise<RemovedItem[]> {
    refuseSystem(req.ref, req);
    return this.d.intents.shared(req.ref.path.slice(0, -1), () => this.secretOps.delete(req.ref));
  }

  async doctor(): Promise<DoctorReport> {
    const plugins = this.d.plugins();
    const findings: DoctorReport['findings'] = [];
    for (const name of this.d.services.names().filter((n) => n.endsWith('diagnose'))) {
      const svc = this.d.services.get(name) as DiagnoseService;
      try {
        for (const f of await svc.diagnose()) findings.push({ ...f, service: name });
      } catch (err) {
        findings.push({ service: name, check: 'diagnose', status: 'error', detail: (err as Error).message });
      }
    }
    const ok = !plugins.some((p) => p.state === 'error') && !findings.some((f) => f.status === 'error');
    return { plugins, findings, ok };
  }
}
