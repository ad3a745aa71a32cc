// The store as YAML files under the run path, one document per resource (see layout.ts).
// Reads take no lock: every write is a rename, so a reader sees a whole old or whole new document.
// Writes take the host's `store` lock, which makes update's read-merge-write safe across processes and keeps
// a put from recreating a directory that a concurrent remove is deleting.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import YAML from 'yaml';
import {
  KukeonError,
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
import { fsyncDir, tempPathFor, writeFileAtomic } from './atomic-write';
import { fastParse, fastStringify } from './fast-yaml';
import { DOC_FILE, NAME_RE, RESERVED_TOP, childrenDir, docPath, resourceDir } from './layout';

/** The one lock every store write takes (`<run-path>/run/locks/store.lock` with the host's FileLocks). */
export const STORE_LOCK = 'store';

export class YamlStore implements StoreService {
  constructor(
    private readonly runPath: string,
    private readonly locks: Locks,
  ) {}

  async get<K extends Kind>(ref: Ref & { kind: K }): Promise<Doc<K> | undefined> {
    return (await this.read(docPath(this.runPath, ref))) as Doc<K> | undefined;
  }

  async list<K extends Kind>(kind: K, parent: readonly string[]): Promise<Doc<K>[]> {
    const dir = childrenDir(this.runPath, kind, parent);
    const found: { name: string; file: string }[] = [];
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
    const files = found.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)).map((f) => f.file);
    // A directory without its document (or one removed meanwhile) is not a resource.
    const docs = await Promise.all(files.map((file) => this.read(file)));
    return docs.filter((doc): doc is AnyDoc => doc !== undefined) as Doc<K>[];
  }

  async put(doc: AnyDoc): Promise<void> {
    if (!doc || typeof doc !== 'object' || typeof doc.metadata?.name !== 'string') {
      throw new KukeonError('KUKEON_E_INVALID', 'the store was given a document without metadata.name');
    }
    const ref = refOf(doc);
    const file = docPath(this.runPath, ref);
    await this.locks.with(STORE_LOCK, async () => {
      await this.requireParent(ref);
      await this.write(file, doc);
    });
  }

  async update<K extends Kind>(
    ref: Ref & { kind: K },
    fn: (current: Doc<K> | undefined) => Doc<K> | undefined,
  ): Promise<Doc<K> | undefined> {
    const file = docPath(this.runPath, ref);
    return this.locks.with(STORE_LOCK, async () => {
      const current = (await this.read(file)) as Doc<K> | undefined;
      const next = fn(current);
      if (next === undefined) return current;
      if (next.kind !== ref.kind || next.metadata?.name !== ref.path[ref.path.length - 1]) {
        throw new KukeonError('KUKEON_E_INTERNAL', `update of ${formatRef(ref)} returned a ${next.kind} named "${next.metadata?.name}"`);
      }
      await this.requireParent(ref);
      await this.write(file, next);
      return next;
    });
  }

  async remove(ref: Ref): Promise<void> {
    const file = docPath(this.runPath, ref);
    if (ref.kind === 'Container') {
      // A container owns only its document; its logs and files belong to the cell.
      await this.locks.with(STORE_LOCK, async () => {
        try {
          await fs.unlink(file);
        } catch (e) {
          if (isMissing(e)) return;
          throw storeError(e, `cannot remove ${file}`);
        }
        await fsyncDir(path.dirname(file)).catch((e: unknown) => {
          throw storeError(e, `cannot sync ${path.dirname(file)}`);
        });
      });
      return;
    }
    // Rename the whole directory out of sight first (one atomic step), then delete it at leisure: a crash
    // midway through a recursive delete must not leave a half-removed resource that still lists.
    const dir = resourceDir(this.runPath, ref);
    const parent = path.dirname(dir);
    const tombstone = tempPathFor(dir);
    const moved = await this.locks.with(STORE_LOCK, async () => {
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
    });
    if (!moved) return;
    await fs.rm(tombstone, { recursive: true, force: true }).catch((e: unknown) => {
      throw storeError(e, `removed ${formatRef(ref)} but could not delete ${tombstone}`);
    });
  }

  location(ref: Ref): string | undefined {
    return resourceDir(this.runPath, ref);
  }

  private async requireParent(ref: Ref): Promise<void> {
    const parent = parentRef(ref);
    if (!parent) return;
    const file = docPath(this.runPath, parent);
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

  private async write(file: string, doc: Doc): Promise<void> {
    try {
      await writeFileAtomic(file, fastStringify(doc) ?? YAML.stringify(doc));
    } catch (e) {
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
