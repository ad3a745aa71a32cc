// A `delete volume` racing an apply of a cell that mounts the volume: the delete holds the volume's lock from its
// look for users to its removal, and the apply checks the volume under that lock once the cell's containers are
// written; whichever comes first wins and the other fails cleanly. Never a cell started on a deleted volume.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Host } from '../src/host';
import { testHost } from './helpers/hosts';
import { tmpDir } from './helpers/tmp';

const PARENTS = `apiVersion: v1beta1
kind: Realm
metadata: { name: main }
---
apiVersion: v1beta1
kind: Space
metadata: { name: s }
spec: { realmId: main }
---
apiVersion: v1beta1
kind: Stack
metadata: { name: t }
spec: { realmId: main, spaceId: s }
---
apiVersion: v1beta1
kind: Volume
metadata: { name: data, realm: main }
`;
const CELL = `apiVersion: v1beta1
kind: Cell
metadata: { name: db }
spec:
  realmId: main
  spaceId: s
  stackId: t
  containers:
    - id: pg
      image: busybox
      volumes: [{ kind: volume, target: /data, volumeRef: { name: data } }]
`;
const VOLUME = { kind: 'Volume' as const, path: ['main', 'data'] };

/** Holds the volume's lock (as a delete in another process does) for 500 ms, removing the volume under it. */
function deleteUnderLock(other: Host, run: string): { held: Promise<void>; done: Promise<void> } {
  let onHeld!: () => void;
  const held = new Promise<void>((r) => (onHeld = r));
  const done = other.locks.with('res.volume.main.data', async () => {
    onHeld();
    await new Promise((r) => setTimeout(r, 500));
    fs.rmSync(path.join(run, 'main', 'volumes', 'data.yaml'));
    fs.rmSync(path.join(run, 'main', 'volumes', 'data'), { recursive: true });
  });
  return { held, done };
}

test('a volume deleted while a cell mounting it is applied: the apply fails naming it, the cell is not started', async () => {
  const run = tmpDir();
  const host = await testHost([], run);
  const other = await testHost([], run);
  await host.controller.apply(PARENTS);
  const { held, done } = deleteUnderLock(other, run);
  await held;
  const report = await host.controller.apply(CELL);
  await done;
  const db = report.items.find((i) => i.ref.kind === 'Cell');
  assert.is(db?.action, 'failed', JSON.stringify(report.items));
  assert.is(db?.code, 'KUKEON_E_NOT_FOUND');
  assert.match(db?.error ?? '', /volume\/main\/data was deleted while the cell was being applied/);
  // applied again, the volume is made anew (implicitly) and the cell, kept, mounts it
  const again = await host.controller.apply(CELL);
  assert.equal(
    again.items.map((i) => `${i.ref.kind} ${i.action}`),
    ['Volume created', 'Cell unchanged'],
  );
  assert.ok(fs.existsSync(path.join(run, 'main', 'volumes', 'data')));
});

test('a delete after the cell was written is refused: the cell is among its users', async () => {
  const host = await testHost([], tmpDir());
  await host.controller.apply(`${PARENTS}---\n${CELL}`);
  const err = await host.controller.delete(VOLUME).catch((e: Error) => e);
  assert.instance(err, Error);
  assert.match(String((err as Error).message), /mounted by cell\(s\) main\/s\/t\/db/);
});

test.run();
