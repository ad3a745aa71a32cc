// Turns manifest text into validated documents in apply order: every document is checked (kukeon's schema and
// rules, then the plugins' validate hook) before anything is written; one bad document fails the whole input.

import { API_VERSION, KINDS, KukeonError, formatRef, kindDepth, parentRef } from '../../../sdk';
import type { AnyDoc, CellDoc, ContainerSpec, KukeonError as KE, Ref, StoreService } from '../../../sdk';
import type { HostHooks } from '../hooks';
import { parseManifest } from '../validation/parse-manifest';
import { validateDocument } from '../validation/validate-document';
import type { ValidateOptions, ValidatedDoc } from '../validation/validate-document';
import { validateVolumeDocument } from '../validation/validate-volume';
import type { ValidatedVolume } from '../validation/validate-volume';
import { validateSecretDocument } from '../secrets/validate-secret';
import type { ValidatedSecret } from '../secrets/validate-secret';

export interface PlannedDoc extends ValidatedDoc {
  /** A parent that the input did not name and the store does not have: apply creates it and says so. */
  implicit?: boolean;
}

/** The documents of a manifest: the hierarchy's (realms ... containers) and the scoped kinds' (volumes, secrets). */
export interface ValidatedManifest {
  docs: ValidatedDoc[];
  volumes: ValidatedVolume[];
  secrets: ValidatedSecret[];
}

export async function validateInput(
  hooks: HostHooks,
  text: string,
  source: string,
  options: ValidateOptions = {},
): Promise<ValidatedDoc[]> {
  const { docs, volumes, secrets } = await validateManifest(hooks, text, source, options);
  if (volumes.length)
    throw new KukeonError('KUKEON_E_INVALID', 'a Volume document is not taken here', { document: volumes[0].index, kind: 'Volume' });
  if (secrets.length)
    throw new KukeonError('KUKEON_E_INVALID', 'a Secret cannot be given here', { document: secrets[0].index, kind: 'Secret' });
  return docs;
}

export async function validateManifest(
  hooks: HostHooks,
  text: string,
  source: string,
  options: ValidateOptions = {},
): Promise<ValidatedManifest> {
  const docs: ValidatedDoc[] = [];
  const volumes: ValidatedVolume[] = [];
  // Secrets are scoped documents of their own (secrets/secret-ops.ts)
  const secrets: ValidatedSecret[] = [];
  for (const { index, data } of parseManifest(text, source)) {
    const raw = data as Record<string, unknown> | null;
    if (raw && typeof raw === 'object' && raw.kind === 'Volume') volumes.push(validateVolumeDocument(raw, index, options));
    else if (raw && typeof raw === 'object' && raw.kind === 'Secret') secrets.push(validateSecretDocument(raw, index, options));
    else docs.push(validateDocument(data, index, options));
  }
  const seen = new Map<string, number>();
  for (const d of [...docs, ...volumes, ...secrets]) {
    const key = formatRef(d.ref);
    const other = seen.get(key);
    if (other !== undefined) {
      throw new KukeonError('KUKEON_E_INVALID', `${key} is also defined by document ${other}`, {
        document: d.index,
        kind: d.doc.kind,
        name: d.doc.metadata.name,
      });
    }
    seen.set(key, d.index);
  }
  for (const d of docs) {
    const refused = (await hooks.validate.promise({ doc: d.doc, index: d.index, ref: d.ref })) as KE | undefined;
    if (refused) {
      refused.details.document ??= d.index;
      refused.details.kind ??= d.doc.kind;
      refused.details.name ??= d.doc.metadata.name;
      throw refused;
    }
  }
  return { docs, volumes, secrets };
}

/** Folds standalone Container documents into the input's Cell documents (they replace a container of the same id). */
export function foldContainers(docs: ValidatedDoc[]): ValidatedDoc[] {
  const cells = new Map(docs.filter((d) => d.doc.kind === 'Cell').map((d) => [d.ref.path.join('/'), d.doc as CellDoc]));
  return docs.filter((d) => {
    if (d.doc.kind !== 'Container') return true;
    const cell = cells.get(d.ref.path.slice(0, 4).join('/'));
    if (!cell) return true;
    const { realmId: _r, spaceId: _s, stackId: _t, cellId: _c, ...own } = d.doc.spec;
    const i = cell.spec.containers.findIndex((c) => c.id === own.id);
    if (i >= 0) cell.spec.containers[i] = { ...(own as ContainerSpec) };
    else cell.spec.containers.push({ ...(own as ContainerSpec) });
    return false;
  });
}

function implicitDoc(ref: Ref): AnyDoc {
  const [realmId, spaceId] = ref.path;
  const metadata = { name: ref.path[ref.path.length - 1] };
  if (ref.kind === 'Realm') return { apiVersion: API_VERSION, kind: 'Realm', metadata, spec: {} };
  if (ref.kind === 'Space') return { apiVersion: API_VERSION, kind: 'Space', metadata, spec: { realmId } };
  return { apiVersion: API_VERSION, kind: 'Stack', metadata, spec: { realmId, spaceId } };
}

/** A scope a scoped document (a volume) needs: it and its parents are made when missing, as implicit parents. */
export interface NeededScope {
  ref: Ref;
  index: number;
  kind: string;
  name: string;
  field: string;
}

/**
 * Adds the missing parents (realm, space, stack) of every document, and the missing scopes `needed` (with their
 * parents), marked implicit; a Container's cell is never made up. The plugins' validate hook sees each made-up
 * parent too, so a parent a backend would refuse (a space whose network collides) fails the input before
 * anything is written. Returns the documents sorted parents first (stable within a kind).
 */
export async function withParents(
  docs: ValidatedDoc[],
  store: StoreService,
  hooks: HostHooks,
  needed: NeededScope[] = [],
): Promise<PlannedDoc[]> {
  const planned: PlannedDoc[] = [...docs];
  const known = new Set(docs.map((d) => formatRef(d.ref)));
  const origins: (NeededScope & { from: string; start: Ref | undefined })[] = [
    ...docs.map((d) => ({
      ref: d.ref,
      index: d.index,
      kind: d.doc.kind as string,
      name: d.doc.metadata.name,
      field: '',
      from: formatRef(d.ref),
      start: parentRef(d.ref),
    })),
    ...needed.map((n) => ({ ...n, from: `${n.kind.toLowerCase()} ${n.name}`, start: n.ref })),
  ];
  for (const d of origins) {
    for (let p = d.start; p; p = parentRef(p)) {
      const key = formatRef(p);
      if (known.has(key)) continue;
      known.add(key);
      if (await store.get(p)) continue;
      if (p.kind === 'Cell') {
        throw new KukeonError('KUKEON_E_PARENT_NOT_FOUND', `${key} does not exist; a Container document needs its cell`, {
          document: d.index,
          kind: d.kind,
          name: d.name,
          field: 'spec.cellId',
        });
      }
      const doc = implicitDoc(p);
      const refused = (await hooks.validate.promise({ doc, index: d.index, ref: p })) as KE | undefined;
      if (refused) {
        throw new KukeonError(refused.code, `${key}, the implicit parent of ${d.from}: ${refused.message}`, {
          ...refused.details,
          document: d.index,
          kind: d.kind,
          name: d.name,
          field: d.field || `spec.${p.kind.toLowerCase()}Id`,
        });
      }
      planned.push({ index: d.index, doc, ref: p, implicit: true });
    }
  }
  return planned.sort((a, b) => kindDepth(a.doc.kind) - kindDepth(b.doc.kind) || KINDS.indexOf(a.doc.kind) - KINDS.indexOf(b.doc.kind));
}
