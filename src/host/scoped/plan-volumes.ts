// The volumes one apply deals with: those its input declares, and those its cells mount that exist nowhere yet
// (made implicitly, reclaimPolicy Delete, as implicit parents are). Their scopes are made as implicit parents; they
// are applied once every realm, space and stack is, and a cell whose volume failed is not applied.

import { KukeonError, formatRef, isScopedKind, scopeRefOf } from '../../../sdk';
import type { AnyDoc, ApplyItem, ContainerSpec, PlanItem, ScopedRef } from '../../../sdk';
import type { NeededScope } from '../controller/documents';
import { failure } from '../controller/failure';
import type { ValidatedDoc } from '../validation/validate-document';
import { SYSTEM_REALM } from '../validation/names';
import type { ValidatedVolume } from '../validation/validate-volume';
import { type VolumeManager, mountedVolumes } from './volumes';

export interface VolumePlan {
  scopes: NeededScope[];
  plan(): Promise<PlanItem[]>;
  /** Applies every volume whose scope did not fail, each under `shared` (its scope held against a cascade delete). */
  apply(done: readonly ApplyItem[], shared: <T>(ref: ScopedRef, fn: () => Promise<T>) => Promise<T>): Promise<ApplyItem[]>;
  /** The failed item of a volume that `doc` (a cell or container) mounts, if any. */
  failedFor(doc: AnyDoc, items: readonly ApplyItem[]): ApplyItem | undefined;
}

function containersOf(doc: AnyDoc): [ContainerSpec, string][] {
  if (doc.kind === 'Cell') return doc.spec.containers.map((c, i) => [c, `spec.containers[${i}]`]);
  if (doc.kind === 'Container') return [[doc.spec, 'spec']];
  return [];
}

export async function planVolumes(
  declared: ValidatedVolume[],
  docs: ValidatedDoc[],
  volumes: VolumeManager,
  options: { allowSystem?: boolean },
): Promise<VolumePlan> {
  const all: (ValidatedVolume & { implicit?: boolean })[] = [...declared];
  const known = new Set(declared.map((v) => formatRef(v.ref)));
  for (const d of docs) {
    for (const [c, field] of containersOf(d.doc)) {
      (c.volumes ?? []).forEach((v, i) => {
        if (v.kind !== 'volume' || !v.volumeRef) return;
        if (v.volumeRef.realm === SYSTEM_REALM && !options.allowSystem && d.ref.path[0] !== SYSTEM_REALM) {
          const at = `${field}.volumes[${i}].volumeRef.realm`;
          throw new KukeonError('KUKEON_E_SYSTEM', `${at} "${SYSTEM_REALM}" is the system realm, managed by kuke init`, {
            document: d.index,
            kind: d.doc.kind,
            name: d.doc.metadata.name,
            field: at,
          });
        }
      });
      for (const ref of mountedVolumes(c.volumes)) {
        const key = formatRef(ref);
        if (known.has(key)) continue;
        known.add(key);
        if (await volumes.docs.get(ref)) continue;
        all.push({ ...volumes.implicitVolume(ref, d.index), implicit: true });
      }
    }
  }
  const scopes: NeededScope[] = all.map((v) => ({
    ref: scopeRefOf(v.ref),
    index: v.index,
    kind: 'Volume',
    name: v.doc.metadata.name,
    field: 'metadata',
  }));
  const scopeFailed = (v: ScopedRef, items: readonly ApplyItem[]) =>
    items.find(
      (i) =>
        i.action === 'failed' &&
        !isScopedKind(i.ref.kind) &&
        i.ref.path.length < v.path.length &&
        i.ref.path.every((p, k) => v.path[k] === p),
    );
  return {
    scopes,
    async plan() {
      const out: PlanItem[] = [];
      for (const v of all) {
        const current = await volumes.docs.get(v.ref);
        if (!current) out.push({ ref: v.ref, by: 'kukeon', action: 'create', detail: v.implicit ? 'implicit volume' : undefined });
        else if (v.implicit || current.spec.reclaimPolicy === v.doc.spec.reclaimPolicy)
          out.push({ ref: v.ref, by: 'kukeon', action: 'unchanged' });
        else out.push({ ref: v.ref, by: 'kukeon', action: 'update', detail: 'spec.reclaimPolicy' });
      }
      return out;
    },
    async apply(done, shared) {
      const out: ApplyItem[] = [];
      for (const v of all) {
        const failed = scopeFailed(v.ref, done);
        if (failed) {
          out.push({
            ref: v.ref,
            action: 'failed',
            implicit: v.implicit,
            error: `not applied: ${formatRef(failed.ref)} failed`,
            code: 'KUKEON_E_PARENT_NOT_FOUND',
          });
          continue;
        }
        try {
          const r = await shared(v.ref, () => volumes.apply(v, v.implicit));
          out.push({ ...r, ref: v.ref, implicit: v.implicit });
        } catch (err) {
          const e = err instanceof KukeonError ? err : new KukeonError('KUKEON_E_STEP', (err as Error).message);
          out.push({ ref: v.ref, action: 'failed', implicit: v.implicit, ...failure(e) });
        }
      }
      return out;
    },
    failedFor(doc, items) {
      const mounted = new Set(containersOf(doc).flatMap(([c]) => mountedVolumes(c.volumes).map(formatRef)));
      return items.find((i) => i.action === 'failed' && i.ref.kind === 'Volume' && mounted.has(formatRef(i.ref)));
    },
  };
}
