// biome-ignore-all lint/suspicious/noExplicitAny: Plugin<any> is "a plugin of any config type" (its config is contravariant in apply)
// The store slot's conformance suite. Every case gets a fresh run path and a real host (the host's own loader,
// locks and service registry) with the plugin under test as its only plugin; the multi-process cases spawn
// Node children that load the same plugin by module path.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { refOf } from '..';
import type { AnyDoc, CellDoc, ContainerDoc, Kind, Plugin, RealmDoc, Ref, SpaceDoc, StackDoc, StoreService } from '..';
import { hostEntry } from './host';
import type { KitHost } from './host';
import { expect, expectEqual, expectRejects, fail, runCase, show } from './report';
import type { ConformanceCase, ConformanceReport, TestFn } from './report';
import { conformanceTests } from './report';
import { realmWithVersion } from './store-child';
import type { StoreChildJob } from './store-child';

/** The store cases, in the order they run. */
export const STORE_CASES = [
  'loads and provides the store service',
  'create and read at every level (Realm..Container)',
  'update at every level',
  'delete at every level',
  'scoped reads list only the children of the given parent',
  'list is sorted by name; missing refs read as undefined',
  'parent required',
  'remove of a missing ref succeeds',
  'stray files are ignored',
  'concurrent writers in separate processes lose no update',
  'crash between temp write and rename keeps the old version; a re-run converges',
  'kukeon runs on it (apply, get, update, delete)',
] as const;
export type StoreCase = (typeof STORE_CASES)[number];

export interface StoreConformanceOptions {
  /**
   * The plugin under test: a module specifier (a path, absolute or relative to `baseDir`, or a package name),
   * loaded as the configuration file would load it; or the plugin object itself, with `module` naming the
   * module that exports it (the multi-process cases load it by that path).
   */
  plugin: string | Plugin<any>;
  module?: string;
  /** The plugin's config table, as in the configuration file. */
  config?: Record<string, unknown>;
  /** A fresh run path per case (it may not exist yet). Default: a new temp directory, removed afterwards. */
  makeRunPath?: () => string;
  /** Where relative module specifiers are resolved from (default: the current directory). */
  baseDir?: string;
  /** Separate processes in the concurrent-writers case (default 2), and updates each (default 50). */
  writers?: number;
  updates?: number;
  /** How long a store lock may be waited for (default 10 s). */
  lockTimeoutMs?: number;
  /** Run only the cases whose names include one of these strings. */
  only?: readonly string[];
}

const R = 'r1';
const realm = (name: string, extra: Partial<RealmDoc> = {}): RealmDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Realm',
  metadata: { name, labels: { tier: 'test' } },
  spec: { namespace: `kukeon-${name}` },
  status: { state: 'Ready', createdAt: '2024-01-01T00:00:00.000Z', message: 'ünïcödé ✓ "quoted" \'single\' : # not a comment' },
  ...extra,
});
const space = (r: string, name: string): SpaceDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Space',
  metadata: { name },
  spec: { realmId: r },
  status: { state: 'Ready', network: { subnet: '10.90.1.0/24' } },
});
const stack = (r: string, s: string, name: string): StackDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Stack',
  metadata: { name },
  spec: { realmId: r, spaceId: s },
});
const cell = (r: string, s: string, t: string, name: string): CellDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Cell',
  metadata: { name, labels: { app: name } },
  // As the host stores a cell: its own spec; each container is its own document.
  spec: { realmId: r, spaceId: s, stackId: t, resources: { memory: { max: '64Mi' } } } as CellDoc['spec'],
  status: { state: 'Stopped', root: { containerdId: `${s}_${t}_${name}_root`, synthesized: true } },
});
const container = (r: string, s: string, t: string, c: string, name: string): ContainerDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Container',
  metadata: { name },
  spec: {
    id: name,
    realmId: r,
    spaceId: s,
    stackId: t,
    cellId: c,
    image: 'docker.io/library/busybox:1.36',
    args: ['-c', 'echo "$HOME"; exit 0'],
    env: ['A=1', 'B=two words'],
  },
  status: { state: 'Exited', exitCode: 3, restartCount: 0 },
});

/** r1/s1/t1/c1 with containers web and api: one document per level. */
function tree(r = R, s = 's1', t = 't1', c = 'c1'): AnyDoc[] {
  return [realm(r), space(r, s), stack(r, s, t), cell(r, s, t, c), container(r, s, t, c, 'web'), container(r, s, t, c, 'api')];
}

const at = (kind: Kind, ...p: string[]) => ({ kind, path: p }) as Ref & { kind: typeof kind };
const names = (docs: AnyDoc[]) => docs.map((d) => d.metadata.name);
const fmt = (ref: Ref) => `${ref.kind.toLowerCase()}/${ref.path.join('/')}`;

/** A pid that cannot be running: stray temp files "left by" it are fair game for any cleaner. */
const DEAD_PID = 999999999;

interface Loaded {
  plugin: Plugin<any>;
  /** The module path for children, or undefined when only an object was given. */
  module: string | undefined;
}

/** Runs the store contract against `options.plugin` and reports each case by name. */
export async function runStoreConformance(options: StoreConformanceOptions): Promise<ConformanceReport> {
  const baseDir = options.baseDir ?? process.cwd();
  const made: string[] = [];
  const makeRunPath =
    options.makeRunPath ??
    (() => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-conformance-'));
      made.push(dir);
      return path.join(dir, 'run');
    });
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const label = typeof options.plugin === 'string' ? options.plugin : (options.plugin as Plugin).name;
  const cases: ConformanceCase[] = [];
  const selected = (name: string) => !options.only || options.only.some((s) => name.includes(s));

  let loaded: Loaded | undefined;
  let loadError: string | undefined;
  try {
    const { loadPluginModule } = hostEntry();
    if (typeof options.plugin === 'string') {
      // Children get an absolute path when the specifier is a path, so they resolve the very same file.
      const spec = options.plugin;
      const module = spec.startsWith('./') || spec.startsWith('../') ? path.resolve(baseDir, spec) : spec;
      loaded = { plugin: loadPluginModule(module, baseDir), module };
    } else {
      loaded = { plugin: options.plugin, module: options.module };
    }
  } catch (e) {
    loadError = (e as Error).message;
  }
  const pluginName = loaded?.plugin?.name ?? label;

  /** A host on a fresh run path with the plugin as its only plugin. */
  const withHost = async (fn: (store: StoreService, runPath: string, host: KitHost) => Promise<void>) => {
    if (!loaded) fail(`the plugin did not load: ${loadError}`);
    const runPath = makeRunPath();
    const host = await hostEntry().createHost({
      runPath,
      env: {},
      plugins: [{ plugin: loaded.plugin, table: options.config, source: loaded.module }],
      lockTimeoutMs,
    });
    try {
      const store = host.services.get('store');
      if (!store) fail('the host has no store service');
      await fn(store, runPath, host);
    } finally {
      await host.close();
    }
  };
  const putAll = async (store: StoreService, docs: AnyDoc[]) => {
    for (const doc of docs) await store.put(doc);
  };
  const child = (job: Omit<StoreChildJob, 'module' | 'baseDir' | 'config' | 'lockTimeoutMs'>, env: NodeJS.ProcessEnv = {}) => {
    if (!loaded?.module) fail('this case loads the plugin in other processes: give the plugin as a module specifier (or options.module)');
    return runChild({ ...job, module: loaded.module, baseDir, config: options.config, lockTimeoutMs }, env);
  };

  const bodies: Record<StoreCase, () => Promise<void>> = {
    'loads and provides the store service': async () => {
      if (!loaded) fail(`the plugin did not load: ${loadError}`);
      expectEqual(loaded.plugin.slot, 'store', 'the plugin slot');
      await withHost(async (store, _run, host) => {
        const st = host.plugins.find((p) => p.name === loaded!.plugin.name);
        expectEqual(st?.state, 'ok', `plugin status (${st?.reason ?? ''})`);
        for (const m of ['get', 'list', 'put', 'update', 'remove'] as const)
          expect(typeof store[m] === 'function', `the store service has no ${m}()`);
      });
    },

    'create and read at every level (Realm..Container)': () =>
      withHost(async (store) => {
        const docs = tree();
        await putAll(store, docs);
        for (const doc of docs) expectEqual(await store.get(refOf(doc)), doc, `get ${fmt(refOf(doc))} after put`);
        expectEqual(await store.list('Realm', []), [docs[0]], 'list realms');
        expectEqual(await store.list('Space', [R]), [docs[1]], 'list spaces of r1');
        expectEqual(await store.list('Stack', [R, 's1']), [docs[2]], 'list stacks of r1/s1');
        expectEqual(await store.list('Cell', [R, 's1', 't1']), [docs[3]], 'list cells of r1/s1/t1');
        expectEqual(await store.list('Container', [R, 's1', 't1', 'c1']), [docs[5], docs[4]], 'list containers of r1/s1/t1/c1 (api, web)');
        // put replaces a document as a whole.
        const replaced = realm(R, { metadata: { name: R, labels: { version: '2' } }, status: undefined });
        delete replaced.status;
        await store.put(replaced);
        expectEqual(await store.get(at('Realm', R)), replaced, 'get r1 after a put that replaced it');
        expectEqual(await store.get(at('Space', R, 's1')), docs[1], 'replacing a realm keeps its children');
      }),

    'update at every level': () =>
      withHost(async (store) => {
        const docs = tree();
        await putAll(store, docs);
        for (const doc of docs) {
          const ref = refOf(doc);
          let seen: unknown;
          const next = { ...doc, status: { ...doc.status, state: 'Failed', message: `updated ${fmt(ref)}` } } as AnyDoc;
          const returned = await store.update(ref, (cur) => {
            seen = cur;
            return next;
          });
          expectEqual(seen, doc, `update ${fmt(ref)}: fn receives the current document`);
          expectEqual(returned, next, `update ${fmt(ref)}: returns the new document`);
          expectEqual(await store.get(ref), next, `get ${fmt(ref)} after update`);
          expectEqual(
            await store.update(ref, () => undefined),
            next,
            `update ${fmt(ref)} whose fn returns undefined returns the current document`,
          );
          expectEqual(await store.get(ref), next, `update ${fmt(ref)} whose fn returns undefined changes nothing`);
        }
        // update creates a missing document when fn returns one and the parent exists.
        const extra = container(R, 's1', 't1', 'c1', 'new');
        let seenMissing: unknown = 'not called';
        await store.update(refOf(extra) as Ref & { kind: 'Container' }, (cur) => {
          seenMissing = cur;
          return extra;
        });
        expectEqual(seenMissing, undefined, 'update of a missing document: fn receives undefined');
        expectEqual(await store.get(refOf(extra)), extra, 'update of a missing document creates it');
        // A throwing fn rejects with its error, writes nothing and leaves the store usable.
        const boom = new Error('fn failed on purpose');
        let caught: unknown;
        await store
          .update(at('Realm', R), () => {
            throw boom;
          })
          .catch((e: unknown) => (caught = e));
        expect(caught === boom, `update whose fn throws must reject with that error (got ${show(caught)})`);
        const started = Date.now();
        await store.update(at('Realm', R), (cur) => cur && { ...cur, metadata: { ...cur.metadata, labels: { after: 'throw' } } });
        expect(Date.now() - started < 2000, 'an update after a throwing fn waited: the lock was not released');
        expectEqual(
          (await store.get(at('Realm', R)))?.metadata.labels,
          { after: 'throw' },
          'labels after an update that followed a throwing fn',
        );
      }),

    'delete at every level': () =>
      withHost(async (store) => {
        const docs = tree();
        await putAll(store, docs);
        const c = [R, 's1', 't1', 'c1'];
        await store.remove(at('Container', ...c, 'web'));
        expectEqual(await store.get(at('Container', ...c, 'web')), undefined, 'get container web after its remove');
        expectEqual(names(await store.list('Container', c)), ['api'], 'containers after removing web');
        expectEqual(await store.get(at('Cell', ...c)), docs[3], 'removing a container keeps its cell');
        await store.remove(at('Cell', ...c));
        expectEqual(await store.get(at('Cell', ...c)), undefined, 'get cell after its remove');
        expectEqual(await store.get(at('Container', ...c, 'api')), undefined, 'removing a cell removes its containers');
        expectEqual(await store.list('Cell', c.slice(0, 3)), [], 'cells after removing c1');
        await store.put(docs[3]);
        expectEqual(await store.list('Container', c), [], 'a cell put again after its remove has no containers left from before');
        await store.remove(at('Stack', R, 's1', 't1'));
        expectEqual(await store.get(at('Cell', ...c)), undefined, 'removing a stack removes its cells');
        expectEqual(await store.list('Stack', [R, 's1']), [], 'stacks after removing t1');
        await store.remove(at('Space', R, 's1'));
        expectEqual(await store.list('Space', [R]), [], 'spaces after removing s1');
        await store.put(docs[1]);
        await store.put(docs[2]);
        await store.remove(at('Realm', R));
        expectEqual(await store.list('Realm', []), [], 'realms after removing r1');
        expectEqual(await store.get(at('Stack', R, 's1', 't1')), undefined, 'removing a realm removes everything under it');
        await store.put(docs[0]);
        expectEqual(await store.list('Space', [R]), [], 'a realm put again after its remove has no spaces left from before');
      }),

    'scoped reads list only the children of the given parent': () =>
      withHost(async (store) => {
        // The same names under different parents.
        await putAll(store, [...tree(R, 's1'), ...tree(R, 's2').slice(1), ...tree('r2', 's1')]);
        expectEqual(names(await store.list('Realm', [])), ['r1', 'r2'], 'realms');
        expectEqual(names(await store.list('Space', ['r1'])), ['s1', 's2'], 'spaces of r1');
        const r2spaces = await store.list('Space', ['r2']);
        expectEqual(
          r2spaces.map((d) => [d.metadata.name, d.spec.realmId]),
          [['s1', 'r2']],
          'spaces of r2',
        );
        const s2cells = await store.list('Cell', ['r1', 's2', 't1']);
        expectEqual(
          s2cells.map((d) => d.spec.spaceId),
          ['s2'],
          'cells of r1/s2/t1 belong to s2',
        );
        const ctrs = await store.list('Container', ['r2', 's1', 't1', 'c1']);
        expectEqual(
          ctrs.map((d) => [d.metadata.name, d.spec.realmId]),
          [
            ['api', 'r2'],
            ['web', 'r2'],
          ],
          'containers of r2/s1/t1/c1',
        );
        expectEqual(await store.list('Space', ['nope']), [], 'spaces of a missing realm');
        expectEqual(await store.list('Container', ['r1', 's1', 't1', 'nope']), [], 'containers of a missing cell');
        expectEqual(await store.list('Cell', ['r1', 's1', 'nope']), [], 'cells of a missing stack');
      }),

    'list is sorted by name; missing refs read as undefined': () =>
      withHost(async (store) => {
        for (const n of ['b', 'c', 'a', 'a-2', 'a1']) await store.put(realm(n));
        expectEqual(names(await store.list('Realm', [])), ['a', 'a-2', 'a1', 'b', 'c'], 'realms, sorted by name');
        await putAll(store, [space('a', 's'), stack('a', 's', 't'), cell('a', 's', 't', 'c')]);
        for (const id of ['zz', 'mm', 'aa']) await store.put(container('a', 's', 't', 'c', id));
        expectEqual(names(await store.list('Container', ['a', 's', 't', 'c'])), ['aa', 'mm', 'zz'], 'containers, sorted by name');
        for (const ref of [
          at('Realm', 'x'),
          at('Space', 'a', 'x'),
          at('Stack', 'a', 's', 'x'),
          at('Cell', 'a', 's', 't', 'x'),
          at('Container', 'a', 's', 't', 'c', 'x'),
          at('Container', 'x', 'y', 'z', 'w', 'v'),
        ]) {
          expectEqual(await store.get(ref), undefined, `get missing ${fmt(ref)}`);
        }
      }),

    'parent required': () =>
      withHost(async (store) => {
        const [r, s, t, , web] = tree();
        await expectRejects(store.put(s), 'KUKEON_E_PARENT_NOT_FOUND', 'put of a space without its realm');
        expectEqual(await store.get(refOf(s)), undefined, 'a refused space is not stored');
        await store.put(r);
        await expectRejects(store.put(t), 'KUKEON_E_PARENT_NOT_FOUND', 'put of a stack without its space');
        await store.put(s);
        await store.put(t);
        await expectRejects(store.put(web), 'KUKEON_E_PARENT_NOT_FOUND', 'put of a container without its cell');
        expectEqual(await store.list('Container', [R, 's1', 't1', 'c1']), [], 'a refused container is not listed');
        await expectRejects(
          store.update(at('Cell', R, 's1', 'zz', 'c1') as Ref & { kind: 'Cell' }, () => cell(R, 's1', 'zz', 'c1')),
          'KUKEON_E_PARENT_NOT_FOUND',
          'update creating a cell whose stack is missing',
        );
        expectEqual(await store.list('Cell', [R, 's1', 'zz']), [], 'a refused cell is not listed');
      }),

    'remove of a missing ref succeeds': () =>
      withHost(async (store) => {
        const refs = [
          at('Realm', 'gone'),
          at('Space', 'gone', 's'),
          at('Stack', 'a', 'b', 'c'),
          at('Cell', 'a', 'b', 'c', 'd'),
          at('Container', 'a', 'b', 'c', 'd', 'e'),
        ];
        for (const ref of refs) await store.remove(ref);
        await store.put(realm(R));
        await store.remove(at('Space', R, 'missing'));
        await store.remove(at('Container', R, 's', 't', 'c', 'x'));
        await store.remove(at('Realm', R));
        await store.remove(at('Realm', R));
        expectEqual(await store.list('Realm', []), [], 'realms after removing r1 twice');
      }),

    'stray files are ignored': () =>
      withHost(async (store, runPath) => {
        const docs = [...tree(), realm('r2')];
        await putAll(store, docs);
        const strays = plantStrays(
          runPath,
          docs.map(refOf).map((ref) => store.location?.(ref)),
        );
        expect(strays > 0, `found no directory of the store under ${runPath} to put stray files in`);
        expectEqual(names(await store.list('Realm', [])), ['r1', 'r2'], `realms with ${strays} stray files and directories around`);
        expectEqual(names(await store.list('Space', [R])), ['s1'], 'spaces of r1 with stray files around');
        expectEqual(names(await store.list('Stack', [R, 's1'])), ['t1'], 'stacks with stray files around');
        expectEqual(names(await store.list('Cell', [R, 's1', 't1'])), ['c1'], 'cells with stray files around');
        expectEqual(names(await store.list('Container', [R, 's1', 't1', 'c1'])), ['api', 'web'], 'containers with stray files around');
        for (const doc of docs) expectEqual(await store.get(refOf(doc)), doc, `get ${fmt(refOf(doc))} with stray files around`);
        // Writes and removes still work among them.
        const next = { ...docs[4], status: { state: 'Ready' } } as AnyDoc;
        await store.put(next);
        expectEqual(await store.get(refOf(next)), next, 'put among stray files');
        await store.remove(at('Cell', R, 's1', 't1', 'c1'));
        expectEqual(await store.list('Cell', [R, 's1', 't1']), [], 'remove of a cell among stray files');
      }),

    'concurrent writers in separate processes lose no update': () =>
      withHost(async (store, runPath) => {
        await putAll(store, tree());
        const writers = options.writers ?? 2;
        const updates = options.updates ?? 50;
        const results = await Promise.all(Array.from({ length: writers }, () => child({ runPath, mode: 'increment', count: updates })));
        for (const [i, r] of results.entries()) {
          const head = r.stderr.trim().split('\n').slice(0, 3).join(' | ');
          expect(r.code === 0, `writer process ${i + 1} failed (exit ${r.code ?? r.signal}): ${head}`);
        }
        const doc = await store.get(at('Container', R, 's1', 't1', 'c1', 'web'));
        const got = (doc as ContainerDoc | undefined)?.status?.restartCount;
        expect(
          got === writers * updates,
          `${writers} processes x ${updates} updates of one document: restartCount is ${got}, want ${writers * updates} (${writers * updates - (got ?? 0)} updates lost: update() must hold a lock across processes, e.g. host.locks.with())`,
        );
        expectEqual((doc as ContainerDoc).spec, tree()[4].spec, 'the rest of the document after the concurrent updates');
      }),

    'crash between temp write and rename keeps the old version; a re-run converges': () =>
      withHost(async (store, runPath) => {
        await store.put(realmWithVersion('1'));
        await store.put(space(R, 's1'));
        const crash = { KUKEON_FAILPOINTS: 'store.before-rename=kill' };
        for (const [mode, version] of [
          ['put-realm', '2'],
          ['update-realm', '3'],
        ] as const) {
          const r = await child({ runPath, mode, version }, crash);
          if (r.signal !== 'SIGKILL') {
            if (r.code === 0)
              fail(
                `${mode}: the write finished: the store never reached failpoint store.before-rename (call failpoint('store.before-rename') from kukeon/sdk between writing the temp file and renaming it)`,
              );
            fail(`${mode} with the failpoint: exit ${r.code}, want death by SIGKILL: ${r.stderr.trim().split('\n')[0]}`);
          }
          let after: AnyDoc | undefined;
          try {
            after = await store.get(at('Realm', R));
          } catch (e) {
            fail(`after a ${mode} killed before its rename, realm r1 does not read: ${(e as Error).message}`);
          }
          expectEqual(after?.metadata.labels?.version, '1', `after a ${mode} killed before its rename, realm r1 labels.version`);
          expectEqual(names(await store.list('Realm', [])), ['r1'], `realms after a ${mode} killed before its rename`);
          expectEqual(names(await store.list('Space', [R])), ['s1'], `spaces after a ${mode} killed before its rename`);
        }
        // The same writes again, without the failpoint: they must go through (a lock held by the killed process is recovered).
        for (const [mode, version] of [
          ['put-realm', '2'],
          ['update-realm', '3'],
        ] as const) {
          const r = await child({ runPath, mode, version });
          expect(r.code === 0, `${mode} re-run after the crash: exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n')[0]}`);
          expectEqual((await store.get(at('Realm', R)))?.metadata.labels?.version, version, `realm r1 after the ${mode} re-run`);
        }
        expectEqual(names(await store.list('Realm', [])), ['r1'], 'realms after the re-runs');
        expectEqual(names(await store.list('Space', [R])), ['s1'], 'the crash and re-runs left the realm its spaces');
      }),

    'kukeon runs on it (apply, get, update, delete)': () =>
      withHost(async (store, _run, host) => {
        const report = await host.controller.apply(MANIFEST);
        const failed = report.items.filter((i) => i.action !== 'created');
        expect(failed.length === 0, `apply: ${failed.map((i) => `${fmt(i.ref)} ${i.action}${i.error ? `: ${i.error}` : ''}`).join('; ')}`);
        const cells = await host.controller.get({ kind: 'Cell', scope: ['main', 'blog', 'wp'] });
        expectEqual(
          cells.map((c) => [c.metadata.name, (c as CellDoc).spec.containers.map((x) => x.id)]),
          [['web', ['nginx', 'sidecar']]],
          'get cells after apply',
        );
        expectEqual(
          names(await store.list('Container', ['main', 'blog', 'wp', 'web'])),
          ['nginx', 'sidecar'],
          'the cell is stored as one document per container',
        );
        const again = await host.controller.apply(MANIFEST.replace('tier: front', 'tier: back'));
        const cellItem = again.items.find((i) => i.ref.kind === 'Cell');
        expectEqual(cellItem?.action, 'updated', 'apply of a changed cell');
        expectEqual(
          (await host.controller.get({ kind: 'Cell', scope: ['main', 'blog', 'wp'], name: 'web' }))[0]?.metadata.labels,
          { tier: 'back' },
          'labels after the second apply',
        );
        await host.controller.delete(at('Realm', 'main'), { cascade: true });
        expectEqual(await host.controller.get({ kind: 'Realm', scope: [] }), [], 'realms after delete --cascade');
      }),
  };

  try {
    for (const name of STORE_CASES) if (selected(name)) cases.push(await runCase(name, bodies[name]));
  } finally {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  }
  return { slot: 'store', plugin: pluginName, cases, ok: cases.every((c) => c.ok) };
}

/** One test per store case on a uvu-style `test`: `storeConformanceTests(test, { plugin: '...' })`. */
export function storeConformanceTests(test: TestFn, options: StoreConformanceOptions, prefix = 'store conformance: '): void {
  const names = STORE_CASES.filter((n) => !options.only || options.only.some((s) => n.includes(s)));
  conformanceTests(test, names, () => runStoreConformance(options), prefix);
}

const MANIFEST = `apiVersion: v1beta1
kind: Realm
metadata: { name: main }
---
apiVersion: v1beta1
kind: Cell
metadata: { name: web, labels: { tier: front } }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: nginx, image: "nginx:1.27", args: ["-g", "daemon off;"] }
    - { id: sidecar, image: busybox, command: sleep, args: ["3600"] }
`;

/**
 * Puts stray entries into every directory of the store under `runPath` (except kukeon's `run/`) and the given
 * locations: a torn temp copy of each file (`.<file>.tmp-<dead pid>-<hex>`), an editor backup (`<file>~`), an
 * unrelated file, an unrelated directory, a directory with an invalid name holding a copy of a document, and an
 * empty directory with a valid name. Returns how many entries it made.
 */
function plantStrays(runPath: string, locations: (string | undefined)[]): number {
  const dirs = new Set<string>();
  const walk = (dir: string, top: boolean) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    dirs.add(dir);
    for (const e of entries) if (e.isDirectory() && !(top && e.name === 'run')) walk(path.join(dir, e.name), false);
  };
  walk(runPath, true);
  for (const loc of locations) if (loc) walk(loc, loc === runPath);
  let made = 0;
  for (const dir of dirs) {
    const files = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
    for (const f of files) {
      fs.writeFileSync(path.join(dir, `.${f}.tmp-${DEAD_PID}-0badc0ffee`), '{ "kind": "Realm", "metadata": { "na');
      fs.writeFileSync(path.join(dir, `${f}~`), 'an editor backup: }{ not a document');
      made += 2;
    }
    fs.writeFileSync(path.join(dir, 'NOTES.txt'), 'left here by a human\n');
    fs.writeFileSync(path.join(dir, `.stray.tmp-${DEAD_PID}-abc123`), '\u0000\u0001 torn');
    fs.mkdirSync(path.join(dir, 'lost+found'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'empty-dir'), { recursive: true });
    const bad = path.join(dir, 'Bad_Name');
    fs.mkdirSync(bad, { recursive: true });
    for (const f of files) fs.copyFileSync(path.join(dir, f), path.join(bad, f));
    made += 5;
  }
  return made;
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runChild(job: StoreChildJob, env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const base: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KUKEON_')) base[k] = v;
    const child = spawn(process.execPath, [path.join(__dirname, 'store-child.js'), JSON.stringify(job)], {
      env: { ...base, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}
