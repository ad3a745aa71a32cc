// The store as YAML files under the run path, one document per resource (see layout.ts).
// Reads take no lock: every write is a rename, so a reader sees a whole old or whole new document.
// Writes take the host's `store` lock, which makes update's read-merge-write safe across processes and keeps
// a put from recreating a directory that a concurrent remove is deleting.
//
// Read cache (for a long-lived process): documents and directory listings are kept after a read and served
// from memory while the store's generation has not moved. The generation is `<run-path>/run/store.generation`:
// every write replaces it (a new file renamed over it, under the store lock) after the document itself, so any
// write by any process gives it a new inode. A reader stats it before it serves from the cache (one stat per get
// or list); while this process holds the current file open, its inode cannot be reused, so a changed inode
// means a write happened and the whole cache is dropped. Writes of this process update the cache in place.
// A tree without a generation file (written by an older version) gets one at the first read, when writable.
//
// The generation file also holds the store's revision: a number that every write adds one to, under the store
// lock, so it orders all writes to the run path by every process (as etcd's revision does). put and remove
// resolve to the revision of their write; the lifecycle reports it as the commit order of what it applied or
// deleted. It is not fsync'd: a power loss may set it back, so it orders writes within one boot.

import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import YAML from 'yaml';
import {
  KukeonError,
  childKind,
  formatRef,
  isKukeonError,
  parentRef,
  refOf,
  type AnyDoc,
  type Doc,
  type Kind,
  type Locks,
  type Ref,
  type StoreService,
} from '../../sdk';
import { cleanStrayTemps, fsyncDir, tempPathFor, writeFileAtomic } from './atomic-write';
import { fastParse, fastStringify } from './fast-yaml';
import { DOC_FILE, NAME_RE, RESERVED_TOP, childrenDir, docPath, resourceDir } from './layout';

/** The one lock every store write takes (`<run-path>/run/locks/store.lock` with the host's FileLocks). */
export const STORE_LOCK = 'store';
/** The generation file's name under `<run-path>/run/`. */
export const GENERATION_FILE = 'store.generation';
/** How many documents one list reads at once. */
const READ_CONCURRENCY = 32;
/** How long a file's stat (for the hand-edit check) is trusted; kukeon's own writes never wait for it. */
const HAND_EDIT_RECHECK_MS = 1000;

interface Listed {
  name: string;
  file: string;
}

export class YamlStore implements StoreService {
  private readonly genFile: string;
  /** The generation the cache belongs to (`dev:ino` of the generation file), undefined while nothing is cached. */
  private gen: string | undefined;
  /** The generation file held open, so its inode is not reused while the cache trusts it. */
  private genFd: number | undefined;
  /** Parsed documents by file (null: known to be absent) with the file's stat signature, of generation `gen`. */
  private readonly docs = new Map<string, { doc: AnyDoc | null; sig: string }>();
  private readonly sigs = new Map<string, { sig: string; at: number }>();
  /** Sorted listings by directory with the directory's stat signature, of generation `gen`. */
  private readonly lists = new Map<string, { listed: Listed[]; sig: string }>();

  constructor(
    private readonly runPath: string,
    private readonly locks: Locks,
    /** How long a stat for the hand-edit check is trusted (0: every read stats its file). */
    private readonly options: { handEditRecheckMs?: number } = {},
  ) {
    this.genFile = path.join(runPath, RESERVED_TOP, GENERATION_FILE);
  }

  async get<K extends Kind>(ref: Ref & { kind: K }): Promise<Doc<K> | undefined> {
    const file = docPath(this.runPath, ref);
    return (await this.cachedRead(file, this.sync())) as Doc<K> | undefined;
  }

  async list<K extends Kind>(kind: K, parent: readonly string[]): Promise<Doc<K>[]> {
    const dir = childrenDir(this.runPath, kind, parent);
    const gen = this.sync();
    const cached = gen === undefined ? undefined : this.lists.get(dir);
    let listed = cached && cached.sig === this.sigOf(dir) ? cached.listed : undefined;
    if (!listed) {
      const sig = this.sigOf(dir);
      listed = await this.listDir(kind, dir);
      if (gen !== undefined && this.gen === gen) this.lists.set(dir, { listed, sig });
    }
    const files = listed.map((f) => f.file);
    // A directory without its document (or one removed meanwhile) is not a resource.
    const docs = new Array<AnyDoc | undefined>(files.length);
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        docs[i] = await this.cachedRead(files[i], gen);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, worker));
    return docs.filter((doc): doc is AnyDoc => doc !== undefined) as Doc<K>[];
  }

  /** The sorted document files of a children directory, read from disk. */
  private async listDir(kind: Kind, dir: string): Promise<Listed[]> {
    const found: Listed[] = [];
    for (const entry of await this.readDir(dir)) {
      // Only valid names: that alone skips temp files, tombstones and anything else a human left there.
      if (kind === 'Container') {
        const id = entry.name.endsWith('.yaml') ? entry.name.slice(0, -'.yaml'.length) : '';
        if (entry.isFile() && NAME_RE.test(id)) found.push({ name: id, file: path.join(dir, entry.name) });
      } else if (entry.isDirectory() && NAME_RE.test(entry.name) && !(kind === 'Realm' && entry.name === RESERVED_TOP)) {
        found.push({ name: entry.name, file: path.join(dir, entry.name, DOC_FILE[kind as Exclude<Kind, 'Container'>]) });
      }
    }
    // By name, not by file path: `a-2/realm.yaml` sorts before `a/realm.yaml`, but `a` comes before `a-2`.
    return found.sort(byName);
  }

  /** Resolves to the store revision of this write. */
  async put(doc: AnyDoc): Promise<number> {
    if (!doc || typeof doc !== 'object' || typeof doc.metadata?.name !== 'string') {
      throw new KukeonError('KUKEON_E_INVALID', 'the store was given a document without metadata.name');
    }
    const ref = refOf(doc);
    const file = docPath(this.runPath, ref);
    const { revision } = await this.locks.with(STORE_LOCK, () =>
      this.mutate(
        async () => {
          await this.requireParent(ref);
          await this.write(file, doc);
        },
        () => this.remember(ref, file, doc),
      ),
    );
    return revision;
  }

  async update<K extends Kind>(
    ref: Ref & { kind: K },
    fn: (current: Doc<K> | undefined) => Doc<K> | undefined,
  ): Promise<Doc<K> | undefined> {
    const file = docPath(this.runPath, ref);
    return this.locks.with(STORE_LOCK, async () => {
      const current = (await this.cachedRead(file, this.sync())) as Doc<K> | undefined;
      const next = fn(current);
      if (next === undefined) return current;
      if (next.kind !== ref.kind || next.metadata?.name !== ref.path[ref.path.length - 1]) {
        throw new KukeonError('KUKEON_E_INTERNAL', `update of ${formatRef(ref)} returned a ${next.kind} named "${next.metadata?.name}"`);
      }
      await this.mutate(
        async () => {
          await this.requireParent(ref);
          await this.write(file, next);
        },
        () => this.remember(ref, file, next),
      );
      return next;
    });
  }

  /** Resolves to the store revision of this removal (a removal of something already gone is a write too). */
  async remove(ref: Ref, options: { childless?: boolean } = {}): Promise<number> {
    const file = docPath(this.runPath, ref);
    if (ref.kind === 'Container') {
      // A container owns only its document; its logs and files belong to the cell.
      const { revision } = await this.locks.with(STORE_LOCK, () =>
        this.mutate(
          async () => {
            try {
              await fs.unlink(file);
            } catch (e) {
              if (isMissing(e)) return;
              throw storeError(e, `cannot remove ${file}`);
            }
            await fsyncDir(path.dirname(file)).catch((e: unknown) => {
              throw storeError(e, `cannot sync ${path.dirname(file)}`);
            });
          },
          () => this.forget(file),
        ),
      );
      return revision;
    }
    // Rename the whole directory out of sight first (one atomic step), then delete it at leisure: a crash
    // midway through a recursive delete must not leave a half-removed resource that still lists.
    const dir = resourceDir(this.runPath, ref);
    const parent = path.dirname(dir);
    const tombstone = tempPathFor(dir);
    const { result: moved, revision } = await this.locks.with(STORE_LOCK, () =>
      this.mutate(
        async () => {
          if (options.childless) await this.refuseChildren(ref);
          try {
            await fs.rename(dir, tombstone);
          } catch (e) {
            if (isMissing(e)) return false;
            throw storeError(e, `cannot remove ${dir}`);
          }
          await fsyncDir(parent).catch((e: unknown) => {
            throw storeError(e, `cannot sync ${parent}`);
          });
          return true;
        },
        () => this.forget(dir),
      ),
    );
    if (!moved) return revision;
    await fs.rm(tombstone, { recursive: true, force: true }).catch((e: unknown) => {
      throw storeError(e, `removed ${formatRef(ref)} but could not delete ${tombstone}`);
    });
    return revision;
  }

  /** KUKEON_E_HAS_CHILDREN when a realm, space or stack has a readable child document (a cell's containers are its own). */
  private async refuseChildren(ref: Ref): Promise<void> {
    const kind = ref.kind === 'Cell' || ref.kind === 'Container' ? undefined : childKind(ref.kind);
    if (!kind) return;
    const children: string[] = [];
    for (const c of await this.listDir(kind, childrenDir(this.runPath, kind, ref.path))) {
      // A document that cannot be read is no resource to keep (purge removes such leftovers with their parent).
      if (await this.read(c.file).catch(() => undefined)) children.push(c.name);
    }
    if (children.length)
      throw new KukeonError(
        'KUKEON_E_HAS_CHILDREN',
        `${formatRef(ref)} has ${children.length} ${kind.toLowerCase()}(s) (${children.join(', ')}); it was kept`,
        { kind: ref.kind, name: ref.path[ref.path.length - 1] },
      );
  }

  location(ref: Ref): string | undefined {
    return resourceDir(this.runPath, ref);
  }

  private async requireParent(ref: Ref): Promise<void> {
    const parent = parentRef(ref);
    if (!parent) return;
    const file = docPath(this.runPath, parent);
    const known = this.gen !== undefined ? this.docs.get(file) : undefined;
    if (known?.doc && known.sig === statSig(file)) return;
    try {
      await fs.access(file);
    } catch (e) {
      if (!isMissing(e)) throw storeError(e, `cannot read ${file}`);
      throw new KukeonError('KUKEON_E_PARENT_NOT_FOUND', `${formatRef(parent)} does not exist (needed by ${formatRef(ref)})`, {
        kind: parent.kind,
        name: parent.path[parent.path.length - 1],
      });
    }
  }

  /**
   * The generation to read with: the cache is dropped first when the generation file changed since it was filled.
   * Undefined when nothing may be cached (no generation file yet, or it cannot be read).
   */
  private sync(): string | undefined {
    let key: string;
    try {
      const st = fsSync.statSync(this.genFile);
      key = `${st.dev}:${st.ino}`;
    } catch (e) {
      this.drop();
      // A tree no write of this store version has touched yet: start a generation (a new file is always a
      // move, never a stale one), when the run path is there and writable; else read without a cache.
      if (isMissing(e) && fsSync.existsSync(this.runPath) && this.startGeneration()) return this.adopt();
      return undefined;
    }
    if (key === this.gen) return key;
    this.drop();
    return this.adopt();
  }

  /** Revision 0, linked (not renamed) into place: a writer that made the file meanwhile keeps its revision. */
  private startGeneration(): boolean {
    const temp = tempPathFor(this.genFile);
    try {
      fsSync.mkdirSync(path.dirname(this.genFile), { recursive: true });
      // empty: the revision is the file's size (sparse, no data block), as bump() sets it
      fsSync.writeFileSync(temp, '', { flag: 'wx' });
      fsSync.linkSync(temp, this.genFile);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EEXIST';
    } finally {
      try {
        fsSync.unlinkSync(temp);
      } catch {
        // never created
      }
    }
  }

  /**
   * Opens and holds the current generation file and moves the cache onto it: emptied, unless `keep` (a write of
   * this process under the store lock, when nothing else changed since the cache was filled).
   */
  private adopt(keep = false): string | undefined {
    let fd: number | undefined;
    try {
      fd = fsSync.openSync(this.genFile, 'r');
      const st = fsSync.fstatSync(fd);
      const old = this.genFd;
      this.genFd = fd;
      if (old !== undefined) fsSync.closeSync(old);
      if (!keep) {
        this.docs.clear();
        this.lists.clear();
      }
      this.gen = `${st.dev}:${st.ino}`;
      return this.gen;
    } catch {
      if (fd !== undefined && fd !== this.genFd) fsSync.closeSync(fd);
      this.drop();
      return undefined;
    }
  }

  /**
   * A file's or directory's signature for the hand-edit check, stat'ed at most once a second: kukeon's own writes,
   * from any process, move the generation and are seen at once; an edit by hand (which moves nothing) is seen
   * within a second. Without the memo, the stats were most of a daemon's scoped get.
   */
  private sigOf(file: string, fresh = false): string {
    const now = Date.now();
    const memo = this.sigs.get(file);
    if (!fresh && memo && now - memo.at < (this.options.handEditRecheckMs ?? HAND_EDIT_RECHECK_MS)) return memo.sig;
    const sig = statSig(file);
    this.sigs.set(file, { sig, at: now });
    return sig;
  }

  private drop(): void {
    this.docs.clear();
    this.lists.clear();
    this.sigs.clear();
    this.gen = undefined;
    if (this.genFd !== undefined) {
      const fd = this.genFd;
      this.genFd = undefined;
      try {
        fsSync.closeSync(fd);
      } catch {
        // already closed: nothing held
      }
    }
  }

  /**
   * Runs a write (the caller holds the store lock), then moves the generation, so every process drops what it
   * cached. When no other process wrote since this cache was filled, the cache survives, updated by `after`.
   */
  private async mutate<T>(fn: () => Promise<T>, after: (result: T) => void): Promise<{ result: T; revision: number }> {
    const before = this.sync();
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      this.drop();
      await this.bump().catch(() => undefined);
      throw e;
    }
    let revision: number;
    try {
      revision = await this.bump();
    } catch (e) {
      this.drop();
      throw storeError(e, `cannot move the store generation ${this.genFile}`);
    }
    // Held under the store lock: no other writer can replace the file between the rename and this open.
    const keep = before !== undefined && this.gen === before;
    if (this.adopt(keep) !== undefined && keep) after(result);
    return { result, revision };
  }

  /**
   * Replaces the generation file with a new one holding the next revision (a rename: readers see the old file or
   * the new one) and returns that revision. The caller holds the store lock, so no two writes get the same one.
   * The revision is the file's size, set with truncate: a sparse file needs no data block, so a full disk that let
   * the document through (or left it as it was) cannot fail the move that tells other processes about it.
   */
  private async bump(): Promise<number> {
    const temp = tempPathFor(this.genFile);
    const revision = (await this.readRevision()) + 1;
    try {
      try {
        await fs.writeFile(temp, '', { flag: 'wx' });
      } catch (e) {
        if (!isMissing(e)) throw e;
        await fs.mkdir(path.dirname(this.genFile), { recursive: true });
        await fs.writeFile(temp, '', { flag: 'wx' });
      }
      await fs.truncate(temp, revision);
      await fs.rename(temp, this.genFile);
    } catch (e) {
      await fs.unlink(temp).catch(() => undefined);
      throw e;
    }
    // a writer killed between its temp and its rename left the temp beside the generation file
    await cleanStrayTemps(path.dirname(this.genFile)).catch(() => undefined);
    return revision;
  }

  /** The revision in the generation file: its size (0 when there is none yet). */
  private async readRevision(): Promise<number> {
    try {
      return (await fs.stat(this.genFile)).size;
    } catch (e) {
      if (isMissing(e)) return 0;
      throw e;
    }
  }

  /** After this process wrote `doc` to `file`: the cached document and its directory's listing. */
  private remember(ref: Ref, file: string, doc: AnyDoc): void {
    this.docs.set(file, { doc: structuredClone(doc), sig: this.sigOf(file, true) });
    const dir = ref.kind === 'Container' ? path.dirname(file) : path.dirname(path.dirname(file));
    const cached = this.lists.get(dir);
    const name = ref.path[ref.path.length - 1];
    if (cached) {
      const listed = cached.listed.some((l) => l.name === name) ? cached.listed : [...cached.listed, { name, file }].sort(byName);
      this.lists.set(dir, { listed, sig: this.sigOf(dir, true) });
    }
  }

  /** After this process removed `target` (a container's file, or a resource's directory): everything under it. */
  private forget(target: string): void {
    const under = target + path.sep;
    for (const k of [...this.docs.keys()]) if (k === target || k.startsWith(under)) this.docs.delete(k);
    for (const k of [...this.lists.keys()]) if (k === target || k.startsWith(under)) this.lists.delete(k);
    const dir = path.dirname(target);
    const cached = this.lists.get(dir);
    if (cached) {
      const listed = cached.listed.filter((l) => l.file !== target && !l.file.startsWith(under));
      this.lists.set(dir, { listed, sig: this.sigOf(dir, true) });
    }
  }

  /** A document from the cache of generation `gen`, else from disk (and cached if `gen` is still current). */
  private async cachedRead(file: string, gen: string | undefined): Promise<AnyDoc | undefined> {
    // Each hit is also checked against the file's own stat, so an edit by hand (which moves no generation) is seen.
    const sig = gen === undefined ? '' : this.sigOf(file);
    if (gen !== undefined && this.gen === gen) {
      const hit = this.docs.get(file);
      if (hit !== undefined && hit.sig === sig) return hit.doc === null ? undefined : structuredClone(hit.doc);
    }
    const doc = await this.read(file);
    if (gen !== undefined && this.gen === gen) this.docs.set(file, { doc: doc === undefined ? null : structuredClone(doc), sig });
    return doc;
  }

  private async write(file: string, doc: Doc): Promise<void> {
    const made = missingDirs(path.dirname(file), this.runPath);
    try {
      await writeFileAtomic(file, fastStringify(doc) ?? YAML.stringify(doc));
    } catch (e) {
      // A write that failed (a full or read-only disk) leaves no empty directory of a resource that never was.
      for (const dir of made) await fs.rmdir(dir).catch(() => undefined);
      throw storeError(e, `cannot write ${file}`);
    }
  }

  private async read(file: string): Promise<AnyDoc | undefined> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw storeError(e, `cannot read ${file}`);
    }
    let value: unknown;
    try {
      value = fastParse(text) ?? YAML.parse(text);
    } catch (e) {
      throw storeError(e, `cannot parse ${file}`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new KukeonError('KUKEON_E_STORE', `${file} does not hold a document`, { hint: 'fix or remove the file' });
    }
    return value as AnyDoc;
  }

  private async readDir(dir: string): Promise<import('node:fs').Dirent[]> {
    try {
      return await fs.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return [];
      throw storeError(e, `cannot list ${dir}`);
    }
  }
}

/** What identifies a version of a file or directory without reading it: inode, size, change and modify times. */
function statSig(file: string): string {
  try {
    const st = fsSync.statSync(file, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return 'absent';
  }
}

/** The directories from `dir` up to (not including) `root` that do not exist yet, deepest first. */
function missingDirs(dir: string, root: string): string[] {
  const out: string[] = [];
  for (let d = dir; d !== root && d.startsWith(`${root}${path.sep}`) && !fsSync.existsSync(d); d = path.dirname(d)) out.push(d);
  return out;
}

function byName(x: Listed, y: Listed): number {
  return x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
}

/** ENOENT, or ENOTDIR when a path element is a file: either way there is no document there. */
function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function storeError(e: unknown, what: string): KukeonError {
  if (isKukeonError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new KukeonError('KUKEON_E_STORE', `${what}: ${message}`, {}, { cause: e });
}
