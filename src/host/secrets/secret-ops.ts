// What the controller does with Secrets: apply (values read from `fromFile` before anything is written), dry-run
// plans, list with values hidden, delete. Nothing here returns, logs or throws a value.

import fs from 'node:fs/promises';
import { KINDS, KukeonError, formatRef } from '../../../sdk';
import type { AnyDoc, ApplyItem, PlanItem, RemovedItem, ScopedRef, SecretDoc, SecretListRequest, StoreService } from '../../../sdk';
import type { ValidatedDoc } from '../validation/validate-document';
import { SYSTEM_REALM } from '../validation/names';
import { canonical } from '../controller/diff';
import { parseSelector } from '../controller/selector';
import type { SecretStore } from './secret-store';
import { MAX_SECRET_BYTES } from './validate-secret';
import type { ValidatedSecret } from './validate-secret';

export class SecretOps {
  constructor(
    private readonly secrets: SecretStore,
    private readonly store: () => StoreService,
  ) {}

  /**
   * Reads each `fromFile` into `data` (a Secret stores its value, not a path to it), and checks that a cell scope
   * exists or comes with the input (apply never makes up a cell). Returns stand-ins whose parents apply creates
   * like any document's (realm, space, stack), to be dropped from the plan after.
   */
  async prepare(secrets: ValidatedSecret[], docs: ValidatedDoc[]): Promise<ValidatedDoc[]> {
    for (const s of secrets) {
      if (s.doc.spec.fromFile !== undefined) s.doc.spec = { fromFile: s.doc.spec.fromFile, data: await readValue(s) };
      if (s.scope.length === 4) {
        const named = docs.some((d) => d.doc.kind === 'Cell' && d.ref.path.join('/') === s.scope.join('/'));
        if (!named && !(await this.store().get({ kind: 'Cell', path: s.scope })))
          throw new KukeonError('KUKEON_E_PARENT_NOT_FOUND', `cell/${s.scope.join('/')} does not exist; a cell's Secret needs its cell`, {
            document: s.index,
            kind: 'Secret',
            name: s.doc.metadata.name,
            field: 'metadata.cell',
          });
      }
    }
    return secrets.map((s) => ({
      index: s.index,
      doc: s.doc as unknown as AnyDoc,
      ref: { kind: KINDS[s.scope.length], path: [...s.scope, s.doc.metadata.name] },
    }));
  }

  async plan(secrets: ValidatedSecret[]): Promise<PlanItem[]> {
    const items: PlanItem[] = [];
    for (const s of secrets) {
      const current = await this.secrets.read(s.ref).catch(() => undefined);
      const same = current && canonical([current.metadata, current.spec]) === canonical([s.doc.metadata, s.doc.spec]);
      items.push({ ref: s.ref, by: 'kukeon', action: !current ? 'create' : same ? 'unchanged' : 'update' });
    }
    return items;
  }

  async apply(s: ValidatedSecret): Promise<ApplyItem> {
    return { ref: s.ref, action: await this.secrets.put(s.doc, s.ref) };
  }

  async list(req: SecretListRequest): Promise<SecretDoc[]> {
    const scope = req.allRealms ? [] : req.scope;
    const match = req.selector ? parseSelector(req.selector) : () => true;
    let found = (await this.secrets.list(scope)).filter(({ doc }) => match(doc.metadata.labels));
    // The system realm is kukeon's own: listed with -A, or when asked for.
    if (scope[0] !== SYSTEM_REALM && !req.allRealms) found = found.filter(({ ref }) => ref.path[0] !== SYSTEM_REALM);
    if (req.name !== undefined) {
      found = found.filter(({ ref }) => ref.path[ref.path.length - 1] === req.name);
      if (!found.length) throw new KukeonError('KUKEON_E_NOT_FOUND', `secret/${[...scope, req.name].join('/')} not found`);
    }
    return found.map(({ doc }) => (req.showValues ? doc : { ...doc, spec: hidden(doc.spec) }));
  }

  async delete(ref: ScopedRef): Promise<RemovedItem[]> {
    if (!(await this.secrets.remove(ref))) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
    return [{ ref, warnings: [] }];
  }

  /** The Secrets a delete of `path` takes with it (the store removes the scope's directory whole). */
  async under(path: readonly string[]): Promise<RemovedItem[]> {
    return (await this.secrets.list(path).catch(() => [])).map(({ ref }) => ({ ref, warnings: [] }));
  }
}

function hidden(spec: SecretDoc['spec']): SecretDoc['spec'] {
  const { data: _data, ...rest } = spec;
  return rest;
}

async function readValue(s: ValidatedSecret): Promise<string> {
  const file = s.doc.spec.fromFile!;
  const fail = (why: string): never => {
    throw new KukeonError('KUKEON_E_INVALID', `spec.fromFile ${file} ${why}`, {
      document: s.index,
      kind: 'Secret',
      name: s.doc.metadata.name,
      field: 'spec.fromFile',
    });
  };
  let st: import('node:fs').Stats;
  try {
    st = await fs.stat(file);
  } catch (err) {
    return fail(`cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!st.isFile()) fail('is not a regular file');
  if (st.size > MAX_SECRET_BYTES) fail(`is larger than ${MAX_SECRET_BYTES} bytes`);
  const value = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => fail(`cannot be read (${err.code})`));
  if (value === '') fail('is empty');
  return value;
}
