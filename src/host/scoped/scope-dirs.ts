// Where a scoped kind (Secret; a Volume alike) lives: `<scope dir>/<subdir>/<name>.yaml`, the scope dir being the
// store's directory of the realm, space, stack or cell its metadata names. Shared by every scoped kind.

import { KINDS, KukeonError, formatRef } from '../../../sdk';
import type { Ref, StoreService } from '../../../sdk';

/** The resource a scope path names: realm (1 name), space (2), stack (3) or cell (4). */
export function scopeRef(scope: readonly string[]): Ref {
  if (scope.length < 1 || scope.length > 4) throw new KukeonError('KUKEON_E_INTERNAL', `a scope has 1 to 4 names, not ${scope.length}`);
  return { kind: KINDS[scope.length - 1], path: [...scope] };
}

/** `<scope dir>/<subdir>`; KUKEON_E_STORE when the store keeps no files (only file-based stores hold scoped kinds). */
export function scopedDir(store: StoreService, scope: readonly string[], subdir: string): string {
  const ref = scopeRef(scope);
  const dir = store.location?.(ref);
  if (!dir) throw new KukeonError('KUKEON_E_STORE', `the store keeps no files, so ${formatRef(ref)} cannot hold ${subdir}`);
  return `${dir}/${subdir}`;
}

/** `scope` (when it exists) and every realm, space, stack and cell under it, parents first; `[]` starts at every realm. */
export async function scopesUnder(store: StoreService, scope: readonly string[]): Promise<string[][]> {
  const out: string[][] = [];
  const walk = async (path: string[]): Promise<void> => {
    out.push(path);
    if (path.length === 4) return;
    for (const child of await store.list(KINDS[path.length], path)) await walk([...path, child.metadata.name]);
  };
  if (scope.length === 0) {
    for (const realm of await store.list('Realm', [])) await walk([realm.metadata.name]);
    return out;
  }
  if (await store.get(scopeRef(scope))) await walk([...scope]);
  return out;
}
