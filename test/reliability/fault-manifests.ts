import { idle } from '../e2e/idle';
// Manifests of the faults suite: a realm of `spaces` spaces, one stack each, `cells` cells per stack with
// `containers` sleeping busybox containers each. Deterministic, so a retry applies exactly the same documents.

export interface TreeShape {
  spaces: number;
  cells: number;
  containers: number;
  image?: string;
  /** Extra lines under each space's spec (e.g. a network). */
  spaceSpec?: string;
  /** A label every cell carries (a changed value is an update). */
  label?: string;
}

export const SLEEPER_ARGS = `["-c", "${idle()}"]`;

export function treeManifest(realm: string, shape: TreeShape): string {
  const image = shape.image ?? 'docker.io/kukeon/busybox:test';
  const docs = [`apiVersion: v1beta1\nkind: Realm\nmetadata: { name: ${realm} }\n`];
  for (let s = 0; s < shape.spaces; s++) {
    docs.push(`apiVersion: v1beta1\nkind: Space\nmetadata: { name: sp${s} }\nspec:\n  realmId: ${realm}\n${shape.spaceSpec ?? ''}`);
    docs.push(`apiVersion: v1beta1\nkind: Stack\nmetadata: { name: app }\nspec: { realmId: ${realm}, spaceId: sp${s} }\n`);
    for (let c = 0; c < shape.cells; c++) {
      const containers = Array.from(
        { length: shape.containers },
        (_, k) => `    - { id: w${k}, image: "${image}", command: sh, args: ${SLEEPER_ARGS} }\n`,
      ).join('');
      const labels = shape.label ? `, labels: { rev: "${shape.label}" }` : '';
      docs.push(
        `apiVersion: v1beta1\nkind: Cell\nmetadata: { name: c${c}${labels} }\nspec:\n  realmId: ${realm}\n  spaceId: sp${s}\n  stackId: app\n  containers:\n${containers}`,
      );
    }
  }
  return docs.join('---\n');
}

/** Every cell path of a tree (`[realm, space, 'app', cell]`). */
export function cellPaths(realm: string, shape: TreeShape): string[][] {
  const out: string[][] = [];
  for (let s = 0; s < shape.spaces; s++) for (let c = 0; c < shape.cells; c++) out.push([realm, `sp${s}`, 'app', `c${c}`]);
  return out;
}

/** How many documents the tree stores (realm, spaces, stacks, cells, containers). */
export function docCount(shape: TreeShape): number {
  return 1 + shape.spaces * (2 + shape.cells * (1 + shape.containers));
}
