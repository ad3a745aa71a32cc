// Named volumes: kukeon-owned directories that outlive the cells mounting them. The document is
// `<scope dir>/volumes/<name>.yaml` and the data `<scope dir>/volumes/<name>/`. Deleting a volume (by name, or with
// the cascade delete of its scope) removes its data under `reclaimPolicy: Delete`, and under `Retain` moves it to
// `<run path>/run/retained-volumes/<scope>/volumes/<name>/`, where a volume of the same place made later finds it
// again. A volume some cell's container mounts is never removed.

import fs from 'node:fs';
import path from 'node:path';
import { API_VERSION, KukeonError, formatRef, scopeRefOf, scopedRefOf, volumeRefOf } from '../../../sdk';
import type { ApplyItem, Locks, RemovedItem, Ref, ScopedRef, StoreService, VolumeDoc, VolumeMount } from '../../../sdk';
import { changedFields, sameSpec } from '../controller/diff';
import type { ValidatedVolume } from '../validation/validate-volume';
import { ScopedDocStore } from './scoped-doc-store';

export interface VolumeManagerDeps {
  store: () => StoreService;
  locks: Locks;
  runPath: string;
  /** `<run path>/run`: where Retain keeps the data of removed volumes (`retained-volumes/`). */
  runtimeDir: string;
  lockTimeoutMs: number;
}

/** The named volumes a container's mounts use. */
export function mountedVolumes(volumes: readonly VolumeMount[] | undefined): ScopedRef[] {
  return (volumes ?? []).filter((v) => v.kind === 'volume' && v.volumeRef).map((v) => volumeRefOf(v.volumeRef!));
}

export class VolumeManager {
  readonly docs: ScopedDocStore<VolumeDoc>;
  /** The run path: bind sources may not be in it. */
  readonly runPath: string;

  constructor(private readonly d: VolumeManagerDeps) {
    this.docs = new ScopedDocStore<VolumeDoc>('Volume', d.store);
    this.runPath = d.runPath;
  }

  private lock<T>(ref: ScopedRef, fn: () => Promise<T>): Promise<T> {
    return this.d.locks.with(`res.volume.${ref.path.join('.')}`, fn, { timeoutMs: this.d.lockTimeoutMs });
  }

  /**
   * Called once a cell's containers that mount `refs` are written: each volume must still exist, checked under its
   * lock (briefly, one at a time). A `delete volume` holds that lock from its look for users to its removal, so it
   * either saw this cell and was refused, or removed the volume first and this check fails. No lock is held across
   * the cell's own work (container creates, copy-up, starts), and none is taken inside another.
   */
  async confirm(refs: readonly ScopedRef[]): Promise<void> {
    const byKey = new Map(refs.map((r) => [formatRef(r), r]));
    for (const key of [...byKey.keys()].sort()) {
      const ref = byKey.get(key)!;
      const exists = await this.lock(ref, async () => (await this.docs.get(ref)) !== undefined);
      if (!exists)
        throw new KukeonError(
          'KUKEON_E_NOT_FOUND',
          `${key} was deleted while the cell was being applied; the cell is kept, not started (apply again to make the volume anew)`,
        );
    }
  }

  /** `<scope dir>/volumes/<name>`: the directory mounted into containers. */
  dataDir(ref: ScopedRef): string {
    return path.join(this.docs.kindDir(scopeRefOf(ref)), ref.path[ref.path.length - 1]);
  }

  /** Where `Retain` keeps the data of a removed volume: outside the YAML tree, mirroring its place in it. */
  retainedDir(ref: ScopedRef): string {
    const scope = ref.path.slice(0, -1);
    return path.join(this.d.runtimeDir, 'retained-volumes', ...scope, 'volumes', ref.path[ref.path.length - 1]);
  }

  /** Creates or updates a volume (its scope exists: apply made it first). Implicit: made only when missing. */
  async apply(v: ValidatedVolume, implicit = false): Promise<Omit<ApplyItem, 'ref'>> {
    return this.lock(v.ref, async () => {
      const current = await this.docs.get(v.ref);
      if (current) {
        await fs.promises.mkdir(this.dataDir(v.ref), { recursive: true, mode: 0o755 });
        if (implicit || (sameSpec(current.spec, v.doc.spec) && sameSpec(current.metadata, v.doc.metadata))) return { action: 'unchanged' };
        const changes = [
          ...changedFields('spec', current.spec as never, v.doc.spec as never),
          ...changedFields('metadata', current.metadata as never, v.doc.metadata as never),
        ];
        await this.docs.put({ ...v.doc, status: { ...current.status, updatedAt: new Date().toISOString() } });
        return { action: 'updated', changes };
      }
      const data = this.dataDir(v.ref);
      const retained = this.retainedDir(v.ref);
      await fs.promises.mkdir(path.dirname(data), { recursive: true, mode: 0o755 });
      // the data a Retain kept when this volume's scope was deleted comes back with it
      if (!fs.existsSync(data) && fs.existsSync(retained)) await fs.promises.rename(retained, data);
      await fs.promises.mkdir(data, { recursive: true, mode: 0o755 });
      await this.docs.put({ ...v.doc, status: { createdAt: new Date().toISOString() } });
      return { action: 'created' };
    });
  }

  /** A Volume document as a cell's mount makes it when it does not exist yet (reclaimPolicy Delete). */
  implicitVolume(ref: ScopedRef, index: number): ValidatedVolume {
    const [realm, space, stack] = ref.path.slice(0, -1);
    const metadata: VolumeDoc['metadata'] = { name: ref.path[ref.path.length - 1], realm };
    if (space !== undefined) metadata.space = space;
    if (stack !== undefined) metadata.stack = stack;
    return { index, ref, doc: { apiVersion: API_VERSION, kind: 'Volume', metadata, spec: { reclaimPolicy: 'Delete' } } };
  }

  /** The stored volume with what `get` shows: its data directory and the cells mounting it. */
  async withStatus(doc: VolumeDoc, users?: Map<string, string[]>): Promise<VolumeDoc> {
    const ref = scopedRefOf(doc);
    const mountedBy = (users ?? (await this.users())).get(formatRef(ref)) ?? [];
    return { ...doc, status: { ...doc.status, path: this.dataDir(ref), mountedBy } };
  }

  /** The volumes at `scope` and below (every realm for `[]`), with their status. */
  async list(scope: readonly string[]): Promise<VolumeDoc[]> {
    const users = await this.users();
    return Promise.all((await this.docs.listUnder(scope)).map((d) => this.withStatus(d, users)));
  }

  /** Every mounted volume (`volume/realm/...`) with the cells (`realm/space/stack/cell`) whose containers mount it. */
  async users(): Promise<Map<string, string[]>> {
    const s = this.d.store();
    const out = new Map<string, string[]>();
    for (const realm of await s.list('Realm', []))
      for (const space of await s.list('Space', [realm.metadata.name]))
        for (const stack of await s.list('Stack', [realm.metadata.name, space.metadata.name]))
          for (const cell of await s.list('Cell', [realm.metadata.name, space.metadata.name, stack.metadata.name])) {
            const cellPath = [realm.metadata.name, space.metadata.name, stack.metadata.name, cell.metadata.name];
            for (const c of await s.list('Container', cellPath))
              for (const ref of mountedVolumes(c.spec.volumes)) {
                const key = formatRef(ref);
                const list = out.get(key) ?? [];
                if (!list.includes(cellPath.join('/'))) list.push(cellPath.join('/'));
                out.set(key, list);
              }
          }
    return out;
  }

  /** `delete volume`: refused while a cell mounts it; its data goes as its reclaimPolicy says. */
  async delete(ref: ScopedRef): Promise<RemovedItem> {
    return this.lock(ref, async () => {
      const doc = await this.docs.get(ref);
      if (!doc) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
      return this.removeLocked(ref, doc, await this.users());
    });
  }

  private async removeLocked(ref: ScopedRef, doc: VolumeDoc, users: Map<string, string[]>): Promise<RemovedItem> {
    const cells = users.get(formatRef(ref)) ?? [];
    if (cells.length)
      throw new KukeonError(
        'KUKEON_E_IN_USE',
        `${formatRef(ref)} is mounted by cell(s) ${cells.join(', ')}; nothing was removed (delete them, or apply them without the mount, first)`,
      );
    const data = this.dataDir(ref);
    let kept: string | undefined;
    if (doc.spec.reclaimPolicy === 'Retain' && fs.existsSync(data)) {
      kept = this.retainedDir(ref);
      if (fs.existsSync(kept)) kept = `${kept}-${new Date().toISOString().replace(/[:.]/g, '')}`;
      await fs.promises.mkdir(path.dirname(kept), { recursive: true, mode: 0o700 });
      await fs.promises.rename(data, kept);
    }
    // the document goes first: a crash between the two leaves data without a document, never a volume without data
    await this.docs.remove(ref);
    if (!kept) await fs.promises.rm(data, { recursive: true, force: true });
    return { ref, warnings: [], ...(kept ? { kept } : {}) };
  }

  /** The volumes of one realm, space or stack (not below it): what a delete of it without --cascade is refused for. */
  async at(scope: Ref): Promise<VolumeDoc[]> {
    return this.docs.listAt(scope);
  }

  /**
   * Before a cascade delete removes `scope`'s directory: each of its volumes goes as its reclaimPolicy says. A purge
   * passes `ignoreUsers`: the directory goes whatever mounts it, so a Retain volume's data must be moved out first.
   */
  async releaseScope(scope: Ref, options: { ignoreUsers?: boolean } = {}): Promise<RemovedItem[]> {
    const out: RemovedItem[] = [];
    const volumes = await this.docs.listAt(scope);
    if (!volumes.length) return out;
    const users = options.ignoreUsers ? new Map<string, string[]>() : await this.users();
    for (const doc of volumes) {
      const ref = scopedRefOf(doc);
      out.push(await this.lock(ref, () => this.removeLocked(ref, doc, users)));
    }
    return out;
  }
}
