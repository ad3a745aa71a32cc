// Subtree intent locks: shared holders run together, an exclusive one waits for them and then runs alone, and
import { tmpDir } from './helpers/tmp';
// later shared requests queue behind a waiting exclusive one. Then the race they exist for: a cascade delete and
// an apply under it, in one host, never leave a cell that apply created but the store no longer has.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IntentLocks } from '../src/host/intent-locks';
import { fakePlugin, testHost } from './helpers/hosts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('shared holders overlap; exclusive runs alone after them; a waiting exclusive holds back later shared ones', async () => {
  const locks = new IntentLocks();
  const log: string[] = [];
  // the first shared holders wait on a gate, not a timer: the order below must not depend on how fast timers fire
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
  const hold =
    (name: string, until: Promise<unknown> = sleep(1)) =>
    async () => {
      log.push(`${name}+`);
      await until;
      log.push(`${name}-`);
    };
  const a = locks.shared(['r', 's'], hold('a', gate));
  const b = locks.shared(['r'], hold('b', gate));
  await sleep(5);
  const x = locks.exclusive(['r'], () => hold('x')());
  await sleep(5);
  const c = locks.shared(['r', 's', 't'], () => hold('c')()); // arrives while x waits: runs after x
  await locks.exclusive(['q'], () => hold('q')()); // another subtree: not held back, done while a and b still hold
  assert.not.ok(log.includes('x+'), 'the exclusive still waits');
  openGate();
  await Promise.all([a, b, x, c]);
  assert.equal(log.slice(0, 2).sort(), ['a+', 'b+'], 'shared holders start together');
  assert.ok(log.indexOf('q+') < log.indexOf('x+'), 'another subtree goes on');
  assert.ok(log.indexOf('x+') > log.indexOf('a-') && log.indexOf('x+') > log.indexOf('b-'), 'exclusive waits for the shared');
  assert.is(log[log.indexOf('x+') + 1], 'x-', 'exclusive runs alone');
  assert.ok(log.indexOf('c+') > log.indexOf('x-'), 'later shared waits behind the exclusive');
});

test('a cascade delete racing an apply under it never orphans a cell: every cell a backend made is stored or was deleted', async () => {
  // A backend stand-in: records what its create taps made and what its delete taps removed. The create tap is slow,
  // which widens the window between the cell's record and the end of its create.
  const made = new Set<string>();
  const removed = new Set<string>();
  const backend = fakePlugin('backend', undefined, (h) => {
    h.hooks.create.for('Cell').tapPromise('make', async (ctx) => {
      await sleep(30);
      made.add(ctx.ref.path.join('/'));
    });
    h.hooks.delete.for('Cell').tapPromise('remove', async (ctx) => {
      removed.add(ctx.ref.path.join('/'));
    });
  });
  const host = await testHost([backend]);
  try {
    const cell = (n: number) =>
      `apiVersion: v1beta1\nkind: Cell\nmetadata: { name: c${n} }\nspec: { realmId: r, spaceId: s, stackId: t, containers: [{ id: w, image: busybox }] }\n`;
    for (let round = 0; round < 12; round++) {
      await host.api.apply({ text: cell(0) });
      const apply = host.api.apply({ text: cell(round + 1) });
      await sleep(round * 4);
      const del = host.api.delete({ ref: { kind: 'Realm', path: ['r'] }, cascade: true }).catch((e: Error) => e);
      await Promise.all([apply, del]);
      const stored = new Set(
        (await host.api.get({ kind: 'Cell', scope: ['r', 's', 't'] }).catch(() => [])).map((d) => `r/s/t/${d.metadata.name}`),
      );
      for (const p of made)
        assert.ok(stored.has(p) || removed.has(p), `round ${round}: ${p} was made by the backend, then neither stored nor deleted`);
      await host.api.purge({ ref: { kind: 'Realm', path: ['r'] }, cascade: true });
      made.clear();
      removed.clear();
    }
  } finally {
    await host.close();
  }
});

test('a cell written by another process while its stack is being deleted keeps the stack (and the cell)', async () => {
  const runPath = tmpDir();
  const other = await testHost([], runPath); // stands for another kuke process on the same run path
  // the stack's delete tap runs after its cells are gone and before its record is removed: the other process
  // writes a cell in that window
  const late = fakePlugin('late-child', undefined, (h) => {
    h.hooks.delete.for('Stack').tapPromise('late', async () => {
      await other.api.apply({
        text: 'apiVersion: v1beta1\nkind: Cell\nmetadata: { name: late }\nspec: { realmId: r, spaceId: s, stackId: t, containers: [{ id: w, image: b }] }\n',
      });
    });
  });
  const host = await testHost([late], runPath);
  try {
    await host.api.apply({ text: 'apiVersion: v1beta1\nkind: Stack\nmetadata: { name: t }\nspec: { realmId: r, spaceId: s }\n' });
    const err = await host.api.delete({ ref: { kind: 'Stack', path: ['r', 's', 't'] }, cascade: true }).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    assert.is(err?.code, 'KUKEON_E_HAS_CHILDREN', String(err));
    assert.match(err?.message ?? '', 'late');
    const cells = await host.api.get({ kind: 'Cell', scope: ['r', 's', 't'] });
    assert.equal(
      cells.map((d) => d.metadata.name),
      ['late'],
      'the late cell is still stored',
    );
  } finally {
    await host.close();
    await other.close();
  }
});

test.run();
