// The store's on-disk layout written straight to disk (no controller, no validation): realms x spaces x stacks x
// cells, each cell with one container, for the store benchmarks.

import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const stamp = '2024-01-01T00:00:00.000Z';
function write(file: string, doc: object): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, YAML.stringify(doc));
}

/** Writes realms/spaces/stacks/cells (each cell with one container) as the store lays them out. */
export function buildTree(run: string, realms: number, spaces: number, stacks: number, cells: number): void {
  for (let r = 0; r < realms; r++) {
    const realmId = `r${r}`;
    const rdir = path.join(run, realmId);
    write(path.join(rdir, 'realm.yaml'), {
      apiVersion: 'v1beta1',
      kind: 'Realm',
      metadata: { name: realmId },
      spec: { namespace: `kukeon-${realmId}` },
      status: { state: 'Ready', createdAt: stamp },
    });
    for (let s = 0; s < spaces; s++) {
      const spaceId = `s${s}`;
      const sdir = path.join(rdir, spaceId);
      write(path.join(sdir, 'space.yaml'), {
        apiVersion: 'v1beta1',
        kind: 'Space',
        metadata: { name: spaceId },
        spec: { realmId },
        status: { state: 'Ready', createdAt: stamp },
      });
      for (let t = 0; t < stacks; t++) {
        const stackId = `t${t}`;
        const tdir = path.join(sdir, stackId);
        write(path.join(tdir, 'stack.yaml'), {
          apiVersion: 'v1beta1',
          kind: 'Stack',
          metadata: { name: stackId },
          spec: { realmId, spaceId },
          status: { state: 'Ready', createdAt: stamp },
        });
        for (let c = 0; c < cells; c++) {
          const cellId = `c${c}`;
          const cdir = path.join(tdir, cellId);
          write(path.join(cdir, 'cell.yaml'), {
            apiVersion: 'v1beta1',
            kind: 'Cell',
            metadata: { name: cellId, labels: { tier: c % 2 ? 'back' : 'front' } },
            spec: { realmId, spaceId, stackId },
            status: { state: 'Pending', createdAt: stamp, updatedAt: stamp },
          });
          write(path.join(cdir, 'containers', 'w.yaml'), {
            apiVersion: 'v1beta1',
            kind: 'Container',
            metadata: { name: 'w' },
            spec: {
              id: 'w',
              image: 'docker.io/library/busybox:latest',
              command: 'sleep',
              args: ['300'],
              realmId,
              spaceId,
              stackId,
              cellId,
            },
            status: { state: 'Pending', createdAt: stamp },
          });
        }
      }
    }
  }
}
