// Storage of scoped kinds (Volume, Secret): one YAML file per document in a directory of its kind inside the scope's
// directory, `<scope dir>/<kind dir>/<name>.yaml`, where the scope dir is the realm's, space's, stack's (or, for a
// Secret, cell's) directory as the store places it. Listing walks every level of a realm (or all realms).

import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {
  KINDS,
  KukeonError,
  SCOPED_DIRS,
  SCOPED_MAX_DEPTH,
  formatRef,
  scopeRefAt,
  scopeRefOf,
  scopedRefOf,
  writeFileAtomic,
} from '../../../sdk';
import type { Ref, ScopedKind, ScopedMetadata, ScopedRef, StoreService } from '../../../sdk';
import { nameProblem } from '../validation/names';

export interface ScopedDoc {
  apiVersion: 'v1beta1';
  kind: ScopedKind;
  metadata: ScopedMetadata;
  spec: object;
  status?: object;
}

export interface ScopedDocStoreOptions {
  /** Mode of each document file (Secret's are 0600); default 0644. */
  fileMode?: number;
  /** Mode of the kind's directory in a scope (Secret's is 0700); default 0755. */
  dirMode?: number;
}

export class ScopedDocStore<D extends ScopedDoc> {
  constructor(
    private readonly kind: ScopedKind,
    private readonly store: () => StoreService,
    private readonly options: ScopedDocStoreOptions = {},
  ) {}

  /** `<scope dir>/<kind dir>`: where the documents of one scope live. */
  kindDir(scope: Ref): string {
    const dir = this.store().location?.(scope);
    if (!dir)
      throw new KukeonError(
        'KUKEON_E_STORE',
        `the store keeps no directory for ${formatRef(scope)}: ${this.kind}s need a file-based store`,
      );
    return path.join(dir, SCOPED_DIRS[this.kind]);
  }

  file(ref: ScopedRef): string {
    const name = ref.path[ref.path.length - 1];
    const most = SCOPED_MAX_DEPTH[this.kind] + 1;
    const problem = ref.path.length < 2 || ref.path.length > most ? `has 2 to ${most} names` : ref.path.map(nameProblem).find(Boolean);
    if (problem) throw new KukeonError('KUKEON_E_INVALID_NAME', `${formatRef(ref)}: ${problem}`);
    return path.join(this.kindDir(scopeRefOf(ref)), `${name}.yaml`);
  }

  async get(ref: ScopedRef): Promise<D | undefined> {
    return this.read(this.file(ref));
  }

  /** The documents of one scope, by name. */
  async listAt(scope: Ref): Promise<D[]> {
    let entries: string[];
    try {
      entries = await fs.promises.readdir(this.kindDir(scope));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw e;
    }
    const names = entries
      .filter((f) => f.endsWith('.yaml') && nameProblem(f.slice(0, -5)) === undefined)
      .map((f) => f.slice(0, -5))
      .sort();
    const docs: (D | undefined)[] = await Promise.all(names.map((n) => this.read(path.join(this.kindDir(scope), `${n}.yaml`))));
    return docs.filter((d): d is D => d !== undefined);
  }

  /** Every document at `scope` and below it (every realm for `[]`), parents before their children. */
  async listUnder(scope: readonly string[]): Promise<D[]> {
    const out: D[] = [];
    for (const at of await this.scopesUnder(scope)) out.push(...(await this.listAt(scopeRefAt(at))));
    return out;
  }

  /**
   * `scope` (when it exists) and every realm, space, stack (and cell, for a kind scoped that deep) under it, parents
   * first; `[]` starts at every realm.
   */
  async scopesUnder(scope: readonly string[]): Promise<string[][]> {
    const s = this.store();
    const deepest = SCOPED_MAX_DEPTH[this.kind];
    const out: string[][] = [];
    const walk = async (at: string[]): Promise<void> => {
      out.push(at);
      if (at.length >= deepest) return;
      for (const child of await s.list(KINDS[at.length], at)) await walk([...at, child.metadata.name]);
    };
    if (scope.length === 0) {
      for (const realm of await s.list('Realm', [])) await walk([realm.metadata.name]);
    } else if (scope.length <= deepest && (await s.get(scopeRefAt(scope)))) {
      await walk([...scope]);
    }
    return out;
  }

  async put(doc: D): Promise<void> {
    const file = this.file(scopedRefOf(doc));
    if (!fs.existsSync(path.dirname(file))) await fs.promises.mkdir(path.dirname(file), { mode: this.options.dirMode ?? 0o755 });
    // an explicit mode (Secret's 0700) is the directory's whatever made it or changed it since
    else if (this.options.dirMode !== undefined) await fs.promises.chmod(path.dirname(file), this.options.dirMode);
    await writeFileAtomic(file, YAML.stringify(doc), { mode: this.options.fileMode ?? 0o644 });
  }

  /** Removes the document; succeeds when it is gone already. */
  async remove(ref: ScopedRef): Promise<void> {
    await fs.promises.rm(this.file(ref), { force: true });
  }

  private async read(file: string): Promise<D | undefined> {
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new KukeonError('KUKEON_E_STORE', `cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      return YAML.parse(text) as D;
    } catch (e) {
      throw new KukeonError('KUKEON_E_STORE', `${file} is not valid YAML: ${(e as Error).message}`);
    }
  }
}
