// What a bind mount's source must be on this host, checked at apply before anything is written: it exists (unless
// `ensure` creates it at the container's create), and it is not kukeon's own state under the run path (resolved
// through symlinks, so a link into the run path is refused as the path itself is). The system realm's kukeond
// mounts the run path: its documents are not checked here.

import fs from 'node:fs';
import path from 'node:path';
import { KukeonError } from '../../../sdk';
import type { AnyDoc, ContainerSpec } from '../../../sdk';
import { SYSTEM_REALM } from './names';
import { expandSource } from './volume-mounts';

export interface BindSourceDoc {
  index: number;
  doc: AnyDoc;
}

/** The deepest existing ancestor of `p`, resolved through symlinks, with the rest of `p` appended. */
function resolvedPath(p: string): string {
  let head = p;
  const rest: string[] = [];
  while (!fs.existsSync(head) && path.dirname(head) !== head) {
    rest.unshift(path.basename(head));
    head = path.dirname(head);
  }
  try {
    return path.join(fs.realpathSync(head), ...rest);
  } catch {
    return p;
  }
}

const within = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

export function checkBindSources(docs: readonly BindSourceDoc[], runPath: string): void {
  const run = path.resolve(runPath);
  const runResolved = resolvedPath(run);
  for (const { index, doc } of docs) {
    if (doc.kind !== 'Cell' && doc.kind !== 'Container') continue;
    if (doc.spec.realmId === SYSTEM_REALM) continue;
    const cellName = doc.kind === 'Cell' ? doc.metadata.name : (doc.spec.cellId ?? '');
    const containers: [ContainerSpec, string][] =
      doc.kind === 'Cell' ? doc.spec.containers.map((c, i) => [c, `spec.containers[${i}]`]) : [[doc.spec, 'spec']];
    for (const [c, field] of containers) {
      (c.volumes ?? []).forEach((v, i) => {
        if (v.kind !== 'bind' || v.source === undefined) return;
        const at = `${field}.volumes[${i}].source`;
        const fail = (msg: string): never => {
          throw new KukeonError('KUKEON_E_INVALID', `${at} ${msg}`, {
            document: index,
            kind: doc.kind,
            name: doc.metadata.name,
            field: at,
          });
        };
        const source = path.resolve(expandSource(v.source, cellName));
        const real = resolvedPath(source);
        if (within(source, run) || within(real, run) || within(real, runResolved))
          fail(`${source} is under the run path ${run}, kukeon's own state; use a named volume (kind: volume) instead`);
        if (within(run, source) || within(runResolved, real)) fail(`${source} contains the run path ${run}, kukeon's own state`);
        if (!v.ensure && !fs.existsSync(source)) fail(`${source} does not exist on the host (set ensure: true to create it)`);
      });
    }
  }
}
