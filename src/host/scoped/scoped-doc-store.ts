// Storage of scoped kinds (Volume; Secret has the same layout): one YAML file per document in a directory of its
// kind inside the scope's directory, `<scope dir>/<kind dir>/<name>.yaml`, where the scope dir is the realm's,
// space's or stack's directory as the store places it. Listing walks every level of a realm (or all realms).

import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KukeonError, SCOPED_DIRS, formatRef, scopeRefOf, scopedRefOf, writeFileAtomic } from '../../../sdk';
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
    const problem = ref.path.length < 2 || ref.path.length > 4 ? 'has 2 to 4 names' : ref.path.map(nameProblem).find(Boolean);
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

  /** Every document at `scope` and below it (every realm for `[]`): realm level first, then spaces, then stacks. */
  async listUnder(scope: readonly string[]): Promise<D[]> {
    const s = this.store();
    const realms = scope.length ? [scope[0]] : (await s.list('Realm', [])).map((r) => r.metadata.name);
    const out: D[] = [];
    for (const realm of realms) {
      if (scope.length <= 1) out.push(...(await this.listAt({ kind: 'Realm', path: [realm] })));
      const spaces = scope.length >= 2 ? [scope[1]] : (await s.list('Space', [realm])).map((d) => d.metadata.name);
      for (const space of spaces) {
        if (scope.length <= 2) out.push(...(await this.listAt({ kind: 'Space', path: [realm, space] })));
        const stacks = scope.length >= 3 ? [scope[2]] : (await s.list('Stack', [realm, space])).map((d) => d.metadata.name);
        for (const stack of stacks) out.push(...(await this.listAt({ kind: 'Stack', path: [realm, space, stack] })));
      }
    }
    return out;
  }

  async put(doc: D): Promise<void> {
    const file = this.file(scopedRefOf(doc));
    if (!fs.existsSync(path.dirname(file))) await fs.promises.mkdir(path.dirname(file), { mode: this.options.dirMode ?? 0o755 });
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
