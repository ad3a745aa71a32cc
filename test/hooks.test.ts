import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KukeonError } from '../sdk';
import type { PlanItem } from '../sdk';
import { MANIFEST, fakePlugin, testHost } from './helpers/hosts';
import { tmpDir } from './helpers/tmp';
import fs from 'node:fs';
import path from 'node:path';

test('the hooks object is frozen and has a hook per kind and phase, the cell steps and the waterfalls', async () => {
  const host = await testHost();
  assert.ok(Object.isFrozen(host.hooks));
  assert.ok(Object.isFrozen(host.hooks.cell));
  for (const phase of ['create', 'delete', 'purge'] as const)
    for (const kind of ['Realm', 'Space', 'Stack', 'Cell', 'Container'] as const) assert.ok(host.hooks[phase].for(kind));
  for (const phase of ['start', 'stop'] as const) for (const kind of ['Cell', 'Container'] as const) assert.ok(host.hooks[phase].for(kind));
  assert.throws(() => host.hooks.start.for('Realm' as never), /no start hook for kind Realm/);
  assert.equal(Object.keys(host.hooks.cell), [
    'prepare',
    'startRoot',
    'attachNetwork',
    'startWorkloads',
    'verify',
    'stopWorkloads',
    'detachNetwork',
    'stopRoot',
    'release',
  ]);
});

test('every tap is named and uses tapPromise', async () => {
  const unnamed = fakePlugin('unnamed', 'network', (host) => host.hooks.create.for('Realm').tapPromise('' as never, async () => {}));
  const sync = fakePlugin('synchronous', 'cgroups', (host) =>
    (host.hooks.create.for('Realm') as unknown as { tap: (n: string, f: () => void) => void }).tap('synchronous', () => {}),
  );
  const host = await testHost([unnamed, sync]);
  const st = Object.fromEntries(host.plugins.map((p) => [p.name, p]));
  assert.is(st.unnamed.state, 'error');
  assert.match(st.unnamed.reason!, /Missing name for tap/);
  assert.is(st.synchronous.state, 'error');
  assert.match(st.synchronous.reason!, /must use tapPromise/);
});

test('tap order follows stage and before, not plugin load order', async () => {
  const order: string[] = [];
  const tapper = (name: string, slot: 'network' | 'cgroups' | 'api', opts: { stage?: number; before?: string }) =>
    fakePlugin(name, slot, (host) => host.hooks.create.for('Realm').tapPromise({ name, ...opts }, async () => void order.push(name)));
  const host = await testHost([
    tapper('late', 'network', { stage: 100 }),
    tapper('plain', 'cgroups', {}),
    tapper('first', 'api', { before: 'plain' }),
  ]);
  await host.controller.apply('kind: Realm\nmetadata: { name: r }\n');
  assert.equal(order, ['first', 'plain', 'late']);
});

test('validate is a bail hook: the first plugin refusal stops the input and nothing is written', async () => {
  const run = tmpDir();
  const calls: string[] = [];
  const refuser = fakePlugin('refuser', 'cgroups', (host) => {
    host.hooks.validate.tapPromise('refuser', async (ctx) => {
      calls.push(`refuser:${ctx.doc.metadata.name}`);
      return ctx.doc.kind === 'Cell' && ctx.doc.metadata.name === 'db'
        ? new KukeonError('KUKEON_E_UNSUPPORTED_FIELD', 'memory.high has no v1 equivalent on this host', {
            field: 'spec.containers[0].resources',
          })
        : undefined;
    });
    host.hooks.validate.tapPromise({ name: 'after', stage: 10 }, async (ctx) => void calls.push(`after:${ctx.doc.metadata.name}`));
  });
  const host = await testHost([refuser], run);
  try {
    await host.controller.apply(MANIFEST);
    assert.unreachable();
  } catch (err) {
    const e = err as KukeonError;
    assert.is(e.code, 'KUKEON_E_UNSUPPORTED_FIELD');
    assert.is(e.details.document, 5);
    assert.is(e.details.name, 'db');
  }
  assert.ok(calls.includes('refuser:db') && !calls.includes('after:db'), 'bail: later taps do not run for the refused document');
  assert.equal(
    fs.readdirSync(run).filter((f) => f !== 'run'),
    [],
  );
});

test('plan is a waterfall: each plugin adds to what apply --dry-run prints, and nothing is written', async () => {
  const run = tmpDir();
  const planner = fakePlugin('planner', 'network', (host) =>
    host.hooks.plan.tapPromise('planner', async (items: PlanItem[], ctx) => [
      ...items,
      ...ctx.docs
        .filter((d) => d.kind === 'Space')
        .map(
          (d): PlanItem => ({
            ref: { kind: 'Space', path: ['main', d.metadata.name] },
            by: 'planner',
            action: 'write',
            detail: 'conflist',
          }),
        ),
    ]),
  );
  const host = await testHost([planner], run);
  const report = await host.controller.apply(MANIFEST, { dryRun: true });
  assert.equal(report.items, []);
  assert.ok(report.plan!.some((p) => p.by === 'kukeon' && p.action === 'create' && p.ref.kind === 'Cell'));
  assert.ok(report.plan!.some((p) => p.by === 'planner' && p.detail === 'conflist'));
  assert.equal(
    fs.readdirSync(run).filter((f) => f !== 'run'),
    [],
  );
  await host.controller.apply(MANIFEST);
  const again = await host.controller.apply(MANIFEST, { dryRun: true });
  assert.ok(again.plan!.filter((p) => p.by === 'kukeon').every((p) => p.action === 'unchanged'));
});

test('status is a waterfall: get shows live status without writing; refresh writes it', async () => {
  const run = tmpDir();
  const live = fakePlugin('live', 'runtime', (host) =>
    host.hooks.status.for('Cell').tapPromise('live', async (status) => ({ ...status, state: 'Exited' })),
  );
  const host = await testHost([live], run);
  await host.controller.apply(MANIFEST.split('---').slice(0, 4).join('---'));
  const file = path.join(run, 'main/blog/wp/web/cell.yaml');
  // apply started the cell (a runtime is loaded, with no step taps): it reads Ready on disk
  const before = fs.readFileSync(file, 'utf8');
  const [cell] = await host.controller.get({ kind: 'Cell', scope: ['main', 'blog', 'wp'], name: 'web' });
  assert.is(cell.status?.state, 'Exited');
  assert.is(fs.readFileSync(file, 'utf8'), before);
  const r = await host.controller.refresh();
  assert.is(r.updated, 1);
  assert.match(fs.readFileSync(file, 'utf8'), /state: Exited/);
});

test('a create tap may return an undo: a later failing tap unwinds it and the record reads Failed', async () => {
  const run = tmpDir();
  const events: string[] = [];
  const p = fakePlugin('creator', 'cgroups', (host) => {
    host.hooks.create.for('Space').tapPromise('mkdir', async (ctx) => {
      events.push('mkdir');
      ctx.status.cgroupPath = '/kukeon/main/blog';
      return () => void events.push('rmdir');
    });
    host.hooks.create.for('Space').tapPromise({ name: 'limits', stage: 1 }, async () => {
      throw new KukeonError('KUKEON_E_STEP', 'cpu controller not delegated');
    });
  });
  const host = await testHost([p], run);
  const report = await host.controller.apply(MANIFEST);
  assert.equal(events, ['mkdir', 'rmdir']);
  assert.equal(
    report.items.map((i) => i.action),
    ['created', 'failed', 'failed', 'failed', 'failed'],
  );
  assert.match(report.items[2].error!, /space\/main\/blog failed/);
  const space = fs.readFileSync(path.join(run, 'main/blog/space.yaml'), 'utf8');
  assert.match(space, /state: Failed/);
  assert.match(space, /reason: KUKEON_E_STEP/);
  assert.match(space, /cpu controller not delegated/);
});

test('failpoints before and after every tap (tap.<hook>.<tap>[.done]) fire at the pass KUKEON_FAILPOINTS names', async () => {
  const passes: string[] = [];
  const tapper = fakePlugin('tapper', 'network', (host) =>
    host.hooks.create.for('Realm').tapPromise('tapper', async (ctx) => void passes.push(ctx.ref.path[0])),
  );
  const host = await testHost([tapper]);
  const applyRealm = (name: string) => host.controller.apply(`kind: Realm\nmetadata: { name: ${name} }\n`);
  process.env.KUKEON_FAILPOINTS = 'tap.create.Realm.tapper=error@2';
  try {
    await applyRealm('one');
    const second = await applyRealm('two');
    assert.match(JSON.stringify(second.items), /failpoint tap\.create\.Realm\.tapper triggered/);
    assert.equal(passes, ['one'], 'the failpoint stopped the second pass before the tap ran');
    process.env.KUKEON_FAILPOINTS = 'tap.create.Realm.tapper.done=error';
    const third = await applyRealm('three');
    assert.match(JSON.stringify(third.items), /failpoint tap\.create\.Realm\.tapper\.done triggered/);
    assert.equal(passes, ['one', 'three'], 'the .done failpoint fires after the tap ran');
  } finally {
    delete process.env.KUKEON_FAILPOINTS;
  }
});

test('a re-apply runs the create taps again of a space whose create never reached Ready (a crash before its status write)', async () => {
  const calls: string[] = [];
  const network = () =>
    fakePlugin('net', 'network', (host) =>
      host.hooks.create.for('Space').tapPromise('net', async (ctx) => void calls.push(ctx.ref.path.join('/'))),
    );
  const run = tmpDir();
  let host = await testHost([network()], run);
  const manifest = 'kind: Realm\nmetadata: { name: r }\n---\nkind: Space\nmetadata: { name: s }\nspec: { realmId: r }\n';
  await host.controller.apply(manifest);
  assert.is((await host.controller.apply(manifest)).items.find((i) => i.ref.kind === 'Space')?.action, 'unchanged');
  assert.equal(calls, ['r/s'], 'a Ready space is left alone');
  // what a kill after the taps and before the Ready leaves: the record, still Pending
  const file = path.join(run, 'r', 's', 'space.yaml');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('state: Ready', 'state: Pending'));
  host = await testHost([network()], run); // the next command: a new process
  const again = await host.controller.apply(manifest);
  assert.is(again.items.find((i) => i.ref.kind === 'Space')?.action, 'updated');
  assert.equal(calls, ['r/s', 'r/s'], 'its create taps ran again');
  const [space] = await host.controller.get({ kind: 'Space', scope: ['r'] });
  assert.is(space.status?.state, 'Ready');
});

test.run();
