// Where each document lives under the run path. The layout mirrors the hierarchy:
//   <run>/<realm>/realm.yaml, <realm>/<space>/space.yaml, .../<stack>/stack.yaml, .../<cell>/cell.yaml,
//   .../<cell>/containers/<container>.yaml
// `<run>/run/` is reserved for locks and runtime files, so no realm may be called `run`.

import * as path from 'node:path';
import { KINDS, KukeonError, formatRef, kindDepth, type Kind, type Ref } from '../../sdk';

/** DNS-label names: also what keeps `..`, `/` and dot files out of every path built here. */
export const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** The top-level directory reserved for locks and runtime files. */
export const RESERVED_TOP = 'run';
export const CONTAINERS_DIR = 'containers';

/** The document file of each kind inside its own directory (containers are `<id>.yaml` instead). */
export const DOC_FILE: Record<Exclude<Kind, 'Container'>, string> = {
  Realm: 'realm.yaml',
  Space: 'space.yaml',
  Stack: 'stack.yaml',
  Cell: 'cell.yaml',
};

/** Checks a path of names before any of it touches the filesystem. */
function checkNames(names: readonly string[], what: string): void {
  for (const name of names) {
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new KukeonError('KUKEON_E_INVALID_NAME', `${what}: "${String(name)}" is not a valid name`, { name: String(name) });
    }
  }
  if (names[0] === RESERVED_TOP) {
    throw new KukeonError('KUKEON_E_RESERVED_NAME', `${what}: realm name "${RESERVED_TOP}" is reserved for kukeon's runtime files`, {
      kind: 'Realm',
      name: RESERVED_TOP,
    });
  }
}

function checkRef(ref: Ref): readonly string[] {
  if (!KINDS.includes(ref.kind)) throw new KukeonError('KUKEON_E_UNKNOWN_KIND', `unknown kind "${String(ref.kind)}"`);
  if (ref.path.length !== kindDepth(ref.kind)) {
    throw new KukeonError('KUKEON_E_INVALID', `${formatRef(ref)}: a ${ref.kind} path has ${kindDepth(ref.kind)} names`);
  }
  checkNames(ref.path, formatRef(ref));
  return ref.path;
}

/** The directory holding `ref`'s document and what belongs to it; for a container, its cell's containers dir. */
export function resourceDir(runPath: string, ref: Ref): string {
  const names = checkRef(ref);
  if (ref.kind === 'Container') return path.join(runPath, ...names.slice(0, 4), CONTAINERS_DIR);
  return path.join(runPath, ...names);
}

/** The YAML file of `ref`'s document. */
export function docPath(runPath: string, ref: Ref): string {
  const dir = resourceDir(runPath, ref);
  if (ref.kind === 'Container') return path.join(dir, `${ref.path[4]}.yaml`);
  return path.join(dir, DOC_FILE[ref.kind]);
}

/** The directory whose entries are the documents of `kind` under `parent` (the run path itself for realms). */
export function childrenDir(runPath: string, kind: Kind, parent: readonly string[]): string {
  if (!KINDS.includes(kind)) throw new KukeonError('KUKEON_E_UNKNOWN_KIND', `unknown kind "${String(kind)}"`);
  const what = `${kind.toLowerCase()}s under /${parent.join('/')}`;
  if (parent.length !== kindDepth(kind) - 1) {
    throw new KukeonError('KUKEON_E_INVALID', `${what}: the parent of a ${kind} has ${kindDepth(kind) - 1} names`);
  }
  checkNames(parent, what);
  if (kind === 'Container') return path.join(runPath, ...parent, CONTAINERS_DIR);
  return path.join(runPath, ...parent);
}
