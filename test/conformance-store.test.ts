// The store conformance kit (kukeon/sdk/testkit) against every store: the built-in store-yaml, the out-of-tree
// examples/store-json (run as its author runs it: its own test.js, with kukeon resolved as a package), and a
// deliberately broken copy of the example, which must fail the kit with messages naming the case.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { STORE_CASES, assertConformance, conformanceTests, runStoreConformance, storeConformanceTests } from '../sdk/testkit';
import type { ConformanceReport } from '../sdk/testkit';
import { loadPluginModule } from '../src/host';
import { tmpDir } from './helpers/tmp';

const REPO_ROOT = path.resolve(__dirname, '../..');
const BROKEN = path.join(REPO_ROOT, 'test', 'fixtures', 'store-json-broken');

// The built-in store, by the module path of its compiled plugin (the multi-process cases load it by that path).
storeConformanceTests(test, { plugin: require.resolve('../plugins/store-yaml') }, 'store-yaml: ');

test('examples/store-json passes the kit, run from its own package as a plugin author runs it', async () => {
  // `kukeon` resolvable as a package, as `npm install` (its file:../.. dev dependency) would make it.
  const nodePath = tmpDir('kukeon-nodepath-');
  fs.symlinkSync(REPO_ROOT, path.join(nodePath, 'kukeon'));
  const dir = path.join(REPO_ROOT, 'examples', 'store-json');
  // TAP, which this test reads (Node 20 prints it when piped; Node 23+ prints its spec format unless asked)
  const r = await run(process.execPath, ['--test-reporter=tap', path.join(dir, 'test.js')], {
    cwd: dir,
    env: { ...cleanEnv(), NODE_PATH: nodePath },
  });
  const passed = STORE_CASES.filter((name) => new RegExp(`^ok \\d+ - store conformance: ${escapeRe(name)}$`, 'm').test(r.stdout));
  assert.equal(
    passed,
    [...STORE_CASES],
    `every case passes\n${r.stdout
      .split('\n')
      .filter((l) => /^(not )?ok|error:/.test(l.trim()))
      .join('\n')}\n${r.stderr}`,
  );
  assert.is(r.code, 0, r.stderr);
});

const broken: Record<string, ConformanceReport> = {};

test('the broken copy that updates without the lock fails the concurrent-writers case, and only that one', async () => {
  const report = (broken['no-lock'] = await runStoreConformance({ plugin: BROKEN, config: { bug: 'no-lock' }, writers: 3, updates: 40 }));
  assert.is(report.ok, false);
  assert.is(report.plugin, 'store-json-broken');
  const failed = report.cases.filter((c) => !c.ok);
  assert.equal(
    failed.map((c) => c.name),
    ['concurrent writers in separate processes lose no update'],
    failed.map((c) => `${c.name}: ${c.error}`).join('\n'),
  );
  assert.match(failed[0].error!, /restartCount is \d+, want 120 \(\d+ updates lost/);
  assert.is(report.cases.length, STORE_CASES.length, 'every case ran');
});

test('the broken copy that writes in place fails the crash case, naming it and the torn document', async () => {
  const report = (broken['in-place'] = await runStoreConformance({ plugin: BROKEN, config: { bug: 'in-place' } }));
  const failed = report.cases.filter((c) => !c.ok);
  assert.equal(
    failed.map((c) => c.name),
    ['crash between temp write and rename keeps the old version; a re-run converges'],
    failed.map((c) => `${c.name}: ${c.error}`).join('\n'),
  );
  assert.match(failed[0].error!, /after a put-realm killed before its rename, realm r1 does not read/);
});

test('assertConformance and the per-case tests name the failed case and say why', async () => {
  const report = broken['no-lock'];
  assert.ok(report, 'the no-lock report from above');
  try {
    assertConformance(report);
    assert.unreachable('a failing report must throw');
  } catch (e) {
    assert.match(
      (e as Error).message,
      'store conformance of store-json-broken: 1 case(s) failed:\n  concurrent writers in separate processes lose no update: ',
    );
  }
  // conformanceTests registers one test per case; the failing one throws with the case's name.
  const registered: [string, () => Promise<void>][] = [];
  conformanceTests(
    (name, fn) => registered.push([name, fn]),
    STORE_CASES,
    async () => report,
    'kit: ',
  );
  assert.is(registered.length, STORE_CASES.length);
  const outcomes = await Promise.all(
    registered.map(([, fn]) =>
      fn().then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    ),
  );
  assert.equal(
    outcomes.filter((o) => o !== 'ok'),
    [
      `store conformance of store-json-broken: concurrent writers in separate processes lose no update: ${report.cases.find((c) => !c.ok)!.error}`,
    ],
  );
  assert.is(registered[9][0], 'kit: concurrent writers in separate processes lose no update');
});

test('a module that does not load fails every case with the reason, and the report names the specifier', async () => {
  const report = await runStoreConformance({ plugin: path.join(tmpDir(), 'no-such-plugin'), only: ['loads', 'create and read'] });
  assert.is(report.cases.length, 2);
  assert.ok(
    report.cases.every((c) => !c.ok && /the plugin did not load: plugin module .*no-such-plugin: not found/.test(c.error ?? '')),
    JSON.stringify(report.cases),
  );
});

test('a plugin object without a module path fails the multi-process cases with what to do', async () => {
  const plugin = loadPluginModule('./examples/store-json', REPO_ROOT);
  const report = await runStoreConformance({ plugin, only: ['concurrent', 'crash', 'create and read'] });
  assert.equal(
    report.cases.map((c) => [c.name.split(' ')[0], c.ok]),
    [
      ['create', true],
      ['concurrent', false],
      ['crash', false],
    ],
  );
  assert.match(report.cases[1].error!, /give the plugin as a module specifier \(or options.module\)/);
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KUKEON_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  return env;
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test.run();
