// Benchmark: the YAML store at scale, store-only (no runtime, no network), in a temp dir. Prints timings; it never
// passes or fails on a time. `npx tsc -p tsconfig.json && node dist/bench/store-scale.js [--cells N] [--apply N]`
//   tree:   N stored cells (default 10,000, one container each), written straight to disk (not timed), laid out
//           two ways: one stack holding them all, and 10 realms x 2 spaces x 5 stacks (100 stacks of N/100);
//   list:   store.list of every realm/space/stack/cell (cold: a new store; warm: the same store again), and
//           Controller.get of the cells of every stack (what `kuke get cells` does per stack);
//   scoped: `kuke get cells --realm R --space S --stack T` of a 100-cell stack inside the big tree (a new process);
//   apply:  Controller.apply of one manifest of M new cells (default 1,000) in a fresh run path.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StoreService } from '../sdk';
import { createHost } from '../src/host';
import { buildTree } from './store-tree';

const root = path.resolve(__dirname, '..', '..');
const config = path.join(root, 'examples', 'kukeon.yaml');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (x: number) => `${x.toFixed(0).padStart(7)} ms`;

async function listAll(store: StoreService): Promise<number> {
  let cells = 0;
  for (const r of await store.list('Realm', []))
    for (const s of await store.list('Space', [r.metadata.name]))
      for (const t of await store.list('Stack', [r.metadata.name, s.metadata.name]))
        cells += (await store.list('Cell', [r.metadata.name, s.metadata.name, t.metadata.name])).length;
  return cells;
}

async function scenario(label: string, run: string): Promise<void> {
  const host = await createHost({ runPath: run, configPath: config });
  const store = host.services.get('store')!;
  let t0 = process.hrtime.bigint();
  const n = await listAll(store);
  console.log(`${label}: store.list of all ${n} cells, cold    ${fmt(ms(t0))}`);
  t0 = process.hrtime.bigint();
  await listAll(store);
  console.log(`${label}: store.list of all ${n} cells, warm    ${fmt(ms(t0))}`);
  t0 = process.hrtime.bigint();
  let got = 0;
  for (const r of await store.list('Realm', []))
    for (const s of await store.list('Space', [r.metadata.name]))
      for (const t of await store.list('Stack', [r.metadata.name, s.metadata.name]))
        got += (await host.controller.get({ kind: 'Cell', scope: [r.metadata.name, s.metadata.name, t.metadata.name] })).length;
  console.log(`${label}: Controller.get of all ${got} cells        ${fmt(ms(t0))}`);
  await host.close();
  // A second host on the same run path: what a fresh in-process command sees (nothing cached).
  const host2 = await createHost({ runPath: run, configPath: config });
  t0 = process.hrtime.bigint();
  got = 0;
  for (const r of await host2.state.list('Realm', []))
    for (const s of await host2.state.list('Space', [r.metadata.name]))
      for (const t of await host2.state.list('Stack', [r.metadata.name, s.metadata.name]))
        got += (await host2.controller.get({ kind: 'Cell', scope: [r.metadata.name, s.metadata.name, t.metadata.name] })).length;
  console.log(`${label}: Controller.get of all ${got} cells, cold  ${fmt(ms(t0))}`);
  await host2.close();
}

function kuke(run: string, args: string[], input?: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'kuke.js'), ...args, '--run-path', run, '--config', config], {
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`kuke ${args.join(' ')}: ${r.stderr}`);
  return ms(t0);
}

function manifest(cells: number): string {
  const docs = [
    'apiVersion: v1beta1\nkind: Realm\nmetadata: { name: a }',
    'apiVersion: v1beta1\nkind: Space\nmetadata: { name: s }\nspec: { realmId: a }',
    'apiVersion: v1beta1\nkind: Stack\nmetadata: { name: t }\nspec: { realmId: a, spaceId: s }',
  ];
  for (let i = 0; i < cells; i++) {
    docs.push(`apiVersion: v1beta1
kind: Cell
metadata: { name: c${i}, labels: { n: "${i}" } }
spec:
  realmId: a
  spaceId: s
  stackId: t
  containers:
    - { id: w, image: docker.io/library/busybox:latest, command: sleep, args: ["300"] }`);
  }
  return docs.join('\n---\n');
}

async function main(): Promise<void> {
  const cells = arg('--cells', 10_000);
  const applyN = arg('--apply', 1_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-bench-store-'));
  try {
    console.log(`node ${process.version}, ${os.cpus().length} cpus, tmp ${tmp}`);

    const one = path.join(tmp, 'one-stack');
    buildTree(one, 1, 1, 1, cells);
    await scenario(`one stack     `, one);

    const spread = path.join(tmp, 'spread');
    buildTree(spread, 10, 2, 5, Math.ceil(cells / 100));
    await scenario(`100 stacks    `, spread);

    const scoped = Math.ceil(cells / 100);
    const t = kuke(spread, ['get', 'cells', '--realm', 'r3', '--space', 's1', '--stack', 't2']);
    console.log(`scoped: kuke get cells of ${scoped} cells in a ${cells}-cell tree (process) ${fmt(t)}`);
    const small = path.join(tmp, 'small');
    buildTree(small, 1, 1, 1, scoped);
    const ts = kuke(small, ['get', 'cells', '--realm', 'r0', '--space', 's0', '--stack', 't0']);
    console.log(`scoped: kuke get cells of ${scoped} cells in a ${scoped}-cell tree (process) ${fmt(ts)}`);
    const hostS = await createHost({ runPath: spread, configPath: config });
    let t0 = process.hrtime.bigint();
    await hostS.controller.get({ kind: 'Cell', scope: ['r3', 's1', 't2'] });
    console.log(`scoped: Controller.get of ${scoped} cells in a ${cells}-cell tree (in-process, cold) ${fmt(ms(t0))}`);
    t0 = process.hrtime.bigint();
    await hostS.controller.get({ kind: 'Cell', scope: ['r3', 's1', 't2'] });
    console.log(`scoped: Controller.get of ${scoped} cells in a ${cells}-cell tree (in-process, warm) ${fmt(ms(t0))}`);
    await hostS.close();

    const applyRun = path.join(tmp, 'apply');
    const text = manifest(applyN);
    const host = await createHost({ runPath: applyRun, configPath: config });
    t0 = process.hrtime.bigint();
    const report = await host.controller.apply(text);
    const failed = report.items.filter((i) => i.action === 'failed');
    console.log(
      `apply: Controller.apply of ${applyN} new cells (in-process)   ${fmt(ms(t0))}${failed.length ? ` (${failed.length} failed)` : ''}`,
    );
    t0 = process.hrtime.bigint();
    await host.controller.apply(text);
    console.log(`apply: Controller.apply of the same ${applyN} cells again (unchanged) ${fmt(ms(t0))}`);
    await host.close();
    const applyRun2 = path.join(tmp, 'apply2');
    const ta = kuke(applyRun2, ['apply', '-f', '-'], text);
    console.log(`apply: kuke apply of ${applyN} new cells (process)            ${fmt(ta)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
