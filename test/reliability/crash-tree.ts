// The tree the crash suite kills commands on: one realm, two spaces (each gets its own CNI network), one stack
// per space, three cells per space and two containers per cell, every container with memory and pids limits
// (in the OCI spec, so runc enforces them on a hybrid host too), and on a pure cgroup2 host a pids limit on
// each cell's own cgroup as well.

import { BUSYBOX_IMAGE_REF } from '../helpers/busybox-oci';

export const REALM = 'crash';
export const NAMESPACE = `kukeon-${REALM}`;
export const SPACES = ['alpha', 'beta'] as const;
export const STACK = 'app';
export const CELLS = ['c1', 'c2', 'c3'] as const;
export const CONTAINERS = ['a', 'b'] as const;

export interface TreeCell {
  space: string;
  name: string;
  /** containerd ids of its tasks: the synthesized root first, then the workloads. */
  taskIds: string[];
}

/** Every cell of the tree with the containerd ids kukeon gives its tasks (`<space>_<stack>_<cell>_<container>`). */
export function treeCells(): TreeCell[] {
  return SPACES.flatMap((space) =>
    CELLS.map((name) => ({
      space,
      name,
      taskIds: ['root', ...CONTAINERS].map((c) => `${space}_${STACK}_${name}_${c}`),
    })),
  );
}

/** A container that exits at once on SIGTERM (a bare `sleep` as PID 1 ignores it: a stop would wait 10 s). */
const container = (id: string) =>
  `    - id: ${id}
      image: "${BUSYBOX_IMAGE_REF}"
      command: sh
      args: ["-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
      resources: { memory: { max: 64Mi }, pids: { max: 64 } }
`;

/** The whole tree as one manifest. `cellLimits`: also a limit on each cell's cgroup (pure cgroup2 hosts only). */
export function treeManifest(cellLimits: boolean): string {
  const docs: string[] = [`apiVersion: v1beta1\nkind: Realm\nmetadata: { name: ${REALM} }\n`];
  for (const space of SPACES) {
    docs.push(`apiVersion: v1beta1\nkind: Space\nmetadata: { name: ${space} }\nspec: { realmId: ${REALM} }\n`);
    docs.push(`apiVersion: v1beta1\nkind: Stack\nmetadata: { name: ${STACK} }\nspec: { realmId: ${REALM}, spaceId: ${space} }\n`);
    for (const cell of CELLS) {
      docs.push(
        `apiVersion: v1beta1
kind: Cell
metadata: { name: ${cell} }
spec:
  realmId: ${REALM}
  spaceId: ${space}
  stackId: ${STACK}
${cellLimits ? '  resources: { pids: { max: 256 } }\n' : ''}  containers:
${CONTAINERS.map(container).join('')}`,
      );
    }
  }
  return docs.join('---\n');
}
