// A Cell is stored as its own document (spec without containers) plus one Container document per container;
// these helpers split a manifest cell for the store and reassemble it for get, diff and phase contexts.

import { API_VERSION, rootContainerId } from '../../../sdk';
import type { CellDoc, CellSpec, ContainerDoc, ContainerSpec } from '../../../sdk';

/** The cell's root container id: the SDK's `rootContainerId`, under the name the controller's modules use. */
export const rootIdOf: (spec: Pick<CellSpec, 'rootContainerId' | 'containers'>) => string | undefined = rootContainerId;

export function containerDoc(cell: CellDoc, spec: ContainerSpec, status?: ContainerDoc['status']): ContainerDoc {
  const { realmId, spaceId, stackId } = cell.spec;
  const doc: ContainerDoc = {
    apiVersion: API_VERSION,
    kind: 'Container',
    metadata: { name: spec.id },
    spec: { ...spec, realmId, spaceId, stackId, cellId: cell.metadata.name },
  };
  if (status) doc.status = status;
  return doc;
}

/** The cell's own document (no containers) and its container documents. */
export function splitCell(cell: CellDoc): { cell: CellDoc; containers: ContainerDoc[] } {
  const { containers, ...own } = cell.spec;
  const stored = { ...cell, spec: own as CellSpec };
  return { cell: stored, containers: (containers ?? []).map((c) => containerDoc(cell, c)) };
}

/** Orders containers root first, then by id, as `get` prints them. */
export function sortContainers(containers: ContainerDoc[], rootId: string | undefined): ContainerDoc[] {
  return [...containers].sort((a, b) => {
    if (a.metadata.name === rootId) return -1;
    if (b.metadata.name === rootId) return 1;
    return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
  });
}

/** The cell as a manifest shows it: spec.containers from the container documents (without their parent ids). */
export function assembleCell(cell: CellDoc, containers: ContainerDoc[]): CellDoc {
  const specs = containers.map((c) => {
    const { realmId: _r, spaceId: _s, stackId: _t, cellId: _c, ...own } = c.spec;
    return own as ContainerSpec;
  });
  const spec = { ...cell.spec, containers: specs };
  const ordered = sortContainers(containers, rootIdOf(spec));
  spec.containers = ordered.map((c) => specs[containers.indexOf(c)]);
  return { ...cell, spec };
}
