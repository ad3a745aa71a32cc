// The Secrets on disk: `<scope dir>/secrets/<name>.yaml`, mode 0600 in a 0700 directory, written atomically.
// This file is the only one of kukeon's that holds a secret's value: no store document, status, event or log does.
// Writes take the store's lock and find their scope under it, so a secret is never written into a scope that a
// delete is removing (which would bring the directory, and the value, back without its resource).

import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { KukeonError, SCOPED_DIRS, formatRef, scopeRefAt, scopeRefOf } from '../../../sdk';
import type { Locks, ScopedRef, SecretDoc, StoreService } from '../../../sdk';
import { canonical } from '../controller/diff';
import { ScopedDocStore } from '../scoped/scoped-doc-store';
import { NAME_PATTERN } from '../validation/names';

const SECRETS_DIR = SCOPED_DIRS.Secret;
/** The store-yaml lock every store write takes (plugins/store-yaml STORE_LOCK). */
const STORE_LOCK = 'store';
const NAME = new RegExp(NAME_PATTERN);
/** The document files of the resources a `secrets` directory could be mistaken for. */
const RESOURCE_FILES = ['space.yaml', 'stack.yaml', 'cell.yaml'];

export type SecretWrite = 'created' | 'updated' | 'unchanged';

export class SecretStore {
  /** The shared scoped-kind layout; reads stay here (a parser's message could quote the value). */
  private readonly docs: ScopedDocStore<SecretDoc>;

  constructor(
    private readonly store: () => StoreService,
    private readonly locks: Locks,
  ) {
    this.docs = new ScopedDocStore<SecretDoc>('Secret', store, { fileMode: 0o600, dirMode: 0o700 });
  }

  private fileOf(ref: ScopedRef): string {
    return this.docs.file(ref);
  }

  /** The Secret with its value, or undefined. */
  async read(ref: ScopedRef): Promise<SecretDoc | undefined> {
    return readSecretFile(this.fileOf(ref), ref.path[ref.path.length - 1]);
  }

  /** Writes the Secret (its `data` already read from `fromFile`); its scope must exist. */
  async put(doc: SecretDoc, ref: ScopedRef): Promise<SecretWrite> {
    const file = this.fileOf(ref);
    const scope = scopeRefOf(ref);
    return this.locks.with(STORE_LOCK, async () => {
      if (!(await this.store().get(scope)))
        throw new KukeonError('KUKEON_E_PARENT_NOT_FOUND', `${formatRef(scope)} does not exist (needed by ${formatRef(ref)})`, {
          kind: 'Secret',
          name: ref.path[ref.path.length - 1],
        });
      // a space, stack or cell named `secrets` would own this directory (the name is reserved for them)
      const owner = RESOURCE_FILES.find((f) => existsSync(path.join(path.dirname(file), f)));
      if (owner)
        throw new KukeonError(
          'KUKEON_E_CONFLICT',
          `${path.dirname(file)} belongs to a resource named "${SECRETS_DIR}" (${owner}); rename it`,
        );
      const current = await readSecretFile(file, ref.path[ref.path.length - 1]).catch(() => undefined);
      if (current && sameSecret(current, doc)) return 'unchanged';
      await this.docs.put(doc);
      return current ? 'updated' : 'created';
    });
  }

  /** Removes the Secret; false when it was not there. */
  async remove(ref: ScopedRef): Promise<boolean> {
    const file = this.fileOf(ref);
    return this.locks.with(STORE_LOCK, async () => {
      try {
        await fs.unlink(file);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw new KukeonError('KUKEON_E_STORE', `cannot remove ${formatRef(ref)}: ${(err as Error).message}`);
      }
    });
  }

  /** The Secrets of `scope` and of every scope under it (`[]`: every realm), with their values. */
  async list(scope: readonly string[]): Promise<{ ref: ScopedRef; doc: SecretDoc }[]> {
    const out: { ref: ScopedRef; doc: SecretDoc }[] = [];
    for (const s of await this.docs.scopesUnder(scope)) {
      const dir = this.docs.kindDir(scopeRefAt(s));
      let names: string[];
      try {
        names = (await fs.readdir(dir)).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length));
      } catch {
        continue;
      }
      for (const name of names.filter((n) => NAME.test(n)).sort()) {
        const doc = await readSecretFile(path.join(dir, `${name}.yaml`), name).catch(() => undefined);
        if (doc) out.push({ ref: { kind: 'Secret', path: [...s, name] }, doc });
      }
    }
    return out;
  }
}

/** A Secret file as written by SecretStore; undefined when absent or not a Secret named `name`. */
async function readSecretFile(file: string, name: string): Promise<SecretDoc | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KukeonError('KUKEON_E_STORE', `cannot read the secret file ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let doc: SecretDoc;
  try {
    doc = YAML.parse(text) as SecretDoc;
  } catch {
    // the parser's message may quote the file: never let it out
    throw new KukeonError('KUKEON_E_STORE', `the secret file ${file} is not valid YAML`);
  }
  if (doc?.kind !== 'Secret' || doc.metadata?.name !== name || typeof doc.spec?.data !== 'string') return undefined;
  return doc;
}

function sameSecret(a: SecretDoc, b: SecretDoc): boolean {
  return canonical([a.metadata, a.spec]) === canonical([b.metadata, b.spec]);
}
