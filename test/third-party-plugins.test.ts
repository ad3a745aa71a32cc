// Third-party plugins named in the configuration file by module specifier: resolution (paths from the file's
// directory, package names), the default export or module.exports, the host's own kukeon/sdk (never a second
// copy), PluginSkip from a foreign copy, load failures as error statuses, and the CLI (plugins ls; doctor, with a
// third-party diagnose service too; apply and get with the out-of-tree examples/store-json as the only store).

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as sdk from '../sdk';
import { createHost } from '../src/host';
import { HOST_MODULES, loadPluginModule } from '../src/host/plugin-modules';
import { kukeAsync, withRunPath } from './helpers/kuke';
import { tmpDir } from './helpers/tmp';

const REPO_ROOT = path.resolve(__dirname, '../..');
const STORE_JSON = path.join(REPO_ROOT, 'examples', 'store-json');

/** Writes files under a new temp dir: `{ 'a/b.js': text }`. */
function tree(files: Record<string, string>): string {
  const dir = tmpDir('kukeon-3p-');
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** A plugin module in CommonJS that records into globalThis.__kukeon3p[name]. */
const pluginJs = (name: string, body = '', exportAs = 'module.exports = plugin;') => `
const { definePlugin } = require('kukeon/sdk');
const plugin = definePlugin({
  name: ${JSON.stringify(name)},
  version: '2.0.0',
  apply(host, config) {
    (globalThis.__kukeon3p ??= {})[${JSON.stringify(name)}] = { host, config, sdk: require('kukeon/sdk') };
    ${body}
  },
});
${exportAs}
`;

const seen = (name: string) =>
  (globalThis as { __kukeon3p?: Record<string, { host: sdk.PluginHost; config: unknown; sdk: unknown }> }).__kukeon3p?.[name];

async function hostWith(dir: string, config: string) {
  fs.writeFileSync(path.join(dir, 'kukeon.yaml'), config);
  return createHost({ runPath: path.join(dir, 'run'), configPath: path.join(dir, 'kukeon.yaml'), env: {} });
}

test("a relative path is resolved from the configuration file directory; the plugin gets the host's own kukeon/sdk", async () => {
  const dir = tree({
    'plugins/hello/package.json': '{ "name": "hello", "version": "2.0.0", "main": "main.js" }',
    'plugins/hello/main.js': pluginJs('hello'),
  });
  const host = await hostWith(dir, 'plugins:\n  store-yaml: {}\n  ./plugins/hello: {}\n');
  const st = host.plugins.find((p) => p.name === 'hello');
  assert.equal(st && { state: st.state, version: st.version, source: st.source }, {
    state: 'ok',
    version: '2.0.0',
    source: './plugins/hello',
  });
  // The very module objects of this host: no second copy of kukeon was loaded.
  assert.ok(seen('hello')!.sdk === sdk, 'require("kukeon/sdk") from the plugin is the host\'s sdk module');
  assert.ok(seen('hello')!.host.hooks === host.hooks, "the plugin received the host's hooks");
  assert.ok(seen('hello')!.host.locks === host.locks);
  assert.is(require.cache[HOST_MODULES['kukeon/sdk']]?.exports, sdk);
});

test('the default export (as TypeScript compiles `export default`) and package names from node_modules', async () => {
  const dir = tree({
    'node_modules/kukeon-plugin-esm-style/package.json': '{ "name": "kukeon-plugin-esm-style", "version": "2.0.0" }',
    'node_modules/kukeon-plugin-esm-style/index.js': pluginJs(
      'esm-style',
      '',
      'Object.defineProperty(exports, "__esModule", { value: true }); exports.default = plugin;',
    ),
    'node_modules/@acme/kukeon-scoped/package.json': '{ "name": "@acme/kukeon-scoped", "version": "2.0.0" }',
    'node_modules/@acme/kukeon-scoped/index.js': pluginJs('scoped'),
  });
  const host = await hostWith(dir, 'plugins:\n  store-yaml: {}\n  kukeon-plugin-esm-style: {}\n  "@acme/kukeon-scoped": {}\n');
  assert.equal(
    host.plugins.map((p) => [p.name, p.state, p.source]),
    [
      ['store-yaml', 'ok', undefined],
      ['esm-style', 'ok', 'kukeon-plugin-esm-style'],
      ['scoped', 'ok', '@acme/kukeon-scoped'],
    ],
  );
});

test("a plugin that bundles its own copy of kukeon still gets the host's, and requires it lazily after load too", async () => {
  // A second "kukeon" inside the plugin's own node_modules: the host must not let the plugin load it.
  const fake = 'exports.definePlugin = (p) => p; exports.FAKE = true; exports.PluginSkip = class PluginSkip extends Error {};';
  const dir = tree({
    'bundled/package.json': '{ "name": "bundled", "version": "2.0.0" }',
    'bundled/node_modules/kukeon/package.json': '{ "name": "kukeon", "version": "9.9.9", "exports": { "./sdk": "./sdk.js" } }',
    'bundled/node_modules/kukeon/sdk.js': fake,
    'bundled/index.js': pluginJs('bundled', "setTimeout(() => ((globalThis.__kukeon3p.later = require('kukeon/sdk'))), 0);"),
    // Outside the plugin's package: resolves as Node resolves it.
    'outside.js': "module.exports = require(require.resolve('kukeon/sdk', { paths: [__dirname + '/bundled'] }));",
  });
  await hostWith(dir, 'plugins:\n  store-yaml: {}\n  ./bundled: {}\n');
  assert.ok(seen('bundled')!.sdk === sdk, 'the bundled copy was not used');
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(
    (globalThis as { __kukeon3p?: { later?: unknown } }).__kukeon3p?.later === sdk,
    "a lazy require after load resolves to the host's sdk",
  );
  // Outside plugin packages nothing is redirected: the bundled copy is still what Node resolves from there.
  assert.is(require(path.join(dir, 'outside.js')).FAKE, true);
});

test('PluginSkip thrown from another copy of the SDK (matched by brand or name) is a skip, not an error', async () => {
  const dir = tree({
    'skipper/index.js': `
class PluginSkip extends Error { constructor(reason) { super(reason); this.name = 'PluginSkip'; this.reason = reason; } }
module.exports = { name: 'skipper', version: '1.0.0', apply() { throw new PluginSkip('no widget on this host'); } };`,
    'branded/index.js': `
module.exports = { name: 'branded', version: '1.0.0', apply() {
  const e = new Error('x'); e.reason = 'branded skip'; Object.defineProperty(e, Symbol.for('kukeon.PluginSkip'), { value: true }); throw e; } };`,
    'thrower/index.js': `module.exports = { name: 'thrower', version: '1.0.0', apply() { const e = new Error('a real failure'); e.reason = 'not a skip'; throw e; } };`,
  });
  const host = await hostWith(dir, 'plugins:\n  store-yaml: {}\n  ./skipper: {}\n  ./branded: {}\n  ./thrower: {}\n');
  const by = Object.fromEntries(host.plugins.map((p) => [p.name, [p.state, p.reason]]));
  assert.equal(by.skipper, ['skip', 'no widget on this host']);
  assert.equal(by.branded, ['skip', 'branded skip']);
  assert.equal(by.thrower, ['error', 'a real failure']);
  assert.ok(sdk.isPluginSkip(new sdk.PluginSkip('x')));
  assert.not.ok(sdk.isPluginSkip(new Error('x')));
});

test('load failures are error statuses naming the specifier; the host still boots', async () => {
  const dir = tree({
    'empty/index.js': 'module.exports = { hello: 1 };',
    'crashes/index.js': "throw new Error('boom at load');",
    'bad-meta/index.js': "module.exports = { name: 'Bad Name', version: '1', apply() {} };",
  });
  const host = await hostWith(
    dir,
    'plugins:\n  store-yaml: {}\n  ./missing: {}\n  ./empty: {}\n  ./crashes: {}\n  not-a-package-anywhere: {}\n  contianerd: {}\n  ./bad-meta: {}\n',
  );
  assert.is(host.plugins.find((p) => p.name === 'store-yaml')?.state, 'ok');
  const reason = (name: string) => host.plugins.find((p) => p.name === name)?.reason ?? '';
  for (const name of ['./missing', './empty', './crashes', 'not-a-package-anywhere', 'contianerd']) {
    const st = host.plugins.find((p) => p.name === name);
    assert.equal([st?.state, st?.source, st?.version], ['error', name, '?'], name);
    assert.ok(reason(name).startsWith(`plugin module ${name}: `), reason(name));
  }
  assert.match(reason('./missing'), `not found (${path.join(dir, 'missing')})`);
  assert.match(reason('./empty'), /exports no plugin \(export the object made by definePlugin\(\)/);
  assert.match(reason('./crashes'), /failed to load .*crashes.*: boom at load/);
  assert.match(reason('contianerd'), /not a built-in plugin either: .*store-yaml/);
  assert.is(host.plugins.find((p) => p.source === './bad-meta')?.state, 'error');
  assert.match(host.plugins.find((p) => p.source === './bad-meta')?.reason ?? '', /name must be lowercase/);
});

test('without a store, a store module that did not load is named in KUKEON_E_NO_STORE', async () => {
  const dir = tree({});
  fs.writeFileSync(path.join(dir, 'kukeon.yaml'), 'plugins:\n  ./stor-json: {}\n');
  try {
    await createHost({ runPath: path.join(dir, 'run'), configPath: path.join(dir, 'kukeon.yaml'), env: {} });
    assert.unreachable('the host must not start without a store');
  } catch (e) {
    assert.is((e as sdk.KukeonError).code, 'KUKEON_E_NO_STORE');
    assert.match((e as Error).message, /no plugin fills the store slot; plugin module \.\/stor-json: not found/);
  }
});

test("a third-party plugin's config is validated against its schema, with x-env over the file", async () => {
  const dir = tree({
    'cfg/index.js': pluginJs('cfg').replace(
      "version: '2.0.0',",
      "version: '2.0.0', configSchema: { type: 'object', additionalProperties: false, properties: { color: { type: 'string', default: 'red', 'x-env': 'CFG_COLOR' }, n: { type: 'integer' } } },",
    ),
  });
  fs.writeFileSync(path.join(dir, 'kukeon.yaml'), 'plugins:\n  store-yaml: {}\n  ./cfg: { n: "3", color: blue }\n');
  await createHost({ runPath: path.join(dir, 'run'), configPath: path.join(dir, 'kukeon.yaml'), env: { CFG_COLOR: 'green' } });
  assert.equal(seen('cfg')!.config, { n: 3, color: 'green' });
  fs.writeFileSync(path.join(dir, 'kukeon.yaml'), 'plugins:\n  store-yaml: {}\n  ./cfg: { colour: blue }\n');
  const host = await createHost({ runPath: path.join(dir, 'run'), configPath: path.join(dir, 'kukeon.yaml'), env: {} });
  assert.match(host.plugins.find((p) => p.name === 'cfg')?.reason ?? '', /plugins\.cfg\.colour: unknown setting/);
});

test('loadPluginModule: the specifier forms, relative to the given directory', () => {
  const a = loadPluginModule(STORE_JSON, '/');
  const b = loadPluginModule(`./${path.relative(REPO_ROOT, STORE_JSON)}`, REPO_ROOT);
  const c = loadPluginModule(path.relative(path.join(REPO_ROOT, 'test'), STORE_JSON), path.join(REPO_ROOT, 'test'));
  assert.ok(a === b && b === c, 'one module, however it is named');
  assert.is(a.name, 'store-json');
  assert.is(a.slot, 'store');
});

// ---------------------------------------------------------------------------------------------------------------
// The CLI with the out-of-tree store as the only store

test('kuke with examples/store-json selected by configuration alone: apply, get, plugins ls, doctor', async () => {
  const dir = tmpDir('kukeon-3p-cli-');
  const runPath = path.join(dir, 'state');
  const config = path.join(dir, 'kukeon.yaml');
  // A path relative to the configuration file's directory.
  fs.writeFileSync(config, `plugins:\n  ${path.relative(dir, STORE_JSON)}: {}\n  ./not-here: {}\n`);
  const env = { KUKEON_CONFIG: config };
  const k = (args: string[], input?: string) => kukeAsync(withRunPath(args, runPath), { env, input });
  const manifest = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'quickstart.yaml'), 'utf8');
  const applied = await k(['apply', '-f', '-'], manifest);
  assert.is(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /realm\/demo created/);
  const files = listFiles(runPath);
  assert.ok(files.includes('demo/realm.json'), files.join('\n'));
  assert.ok(
    files.some((f) => /^demo\/web\/shop\/[^/]+\/containers\/[^/]+\.json$/.test(f)),
    files.join('\n'),
  );
  assert.not.ok(
    files.some((f) => f.endsWith('.yaml')),
    'no YAML: store-yaml is not loaded',
  );
  const realm = JSON.parse(fs.readFileSync(path.join(runPath, 'demo', 'realm.json'), 'utf8'));
  assert.is(realm.kind, 'Realm');

  const [get, ls, lsJson, doctor] = await Promise.all([
    k(['get', 'cells', '--realm', 'demo', '--space', 'web', '--stack', 'shop', '-o', 'json']),
    k(['plugins', 'ls']),
    k(['plugins', 'ls', '-o', 'json']),
    k(['doctor']),
  ]);
  assert.is(get.code, 0, get.stderr);
  const cells = JSON.parse(get.stdout).items;
  assert.ok(cells.length >= 1 && cells.every((c: { kind: string }) => c.kind === 'Cell'), get.stdout);
  assert.is(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /store-json\s+0\.1\.0\s+store\s+ok/);
  assert.match(ls.stdout, /\.\/not-here\s+\?\s+-\s+error\s+plugin module \.\/not-here: not found/);
  const statuses = JSON.parse(lsJson.stdout) as sdk.PluginStatus[];
  assert.is(statuses.find((p) => p.name === 'store-json')?.source, path.relative(dir, STORE_JSON));
  // doctor lists it like a built-in; the plugin that did not load makes it exit 1.
  assert.is(doctor.code, 1, doctor.stdout);
  assert.match(doctor.stdout, /store-json\s+store\s+ok/);
  assert.match(doctor.stdout, /\.\/not-here\s+-\s+error\s+plugin module \.\/not-here: not found/);

  const del = await k(['delete', 'realm', 'demo', '--cascade']);
  assert.is(del.code, 0, del.stderr);
  assert.equal(listFiles(runPath), []);
});

test("kuke doctor prints a third-party plugin's diagnose findings as it prints a built-in's, and fails on its errors", async () => {
  const dir = tree({
    'netcheck/package.json': '{ "name": "kukeon-netcheck", "version": "3.1.0" }',
    'netcheck/index.js': `
const { definePlugin } = require('kukeon/sdk');
module.exports = definePlugin({
  name: 'netcheck',
  version: require('./package.json').version,
  slot: 'network',
  configSchema: { type: 'object', additionalProperties: false, properties: { broken: { type: 'boolean', default: false } } },
  apply(host, config) {
    host.services.provide('network.diagnose', {
      async diagnose() {
        return [
          { check: 'bridge-module', status: 'ok', detail: 'br_netfilter loaded' },
          { check: 'uplink', status: config.broken ? 'error' : 'warn', detail: 'no default route', remedy: 'add one' },
        ];
      },
    });
  },
});`,
  });
  const config = path.join(dir, 'kukeon.yaml');
  const runPath = path.join(dir, 'state');
  const k = (args: string[]) => kukeAsync(withRunPath(args, runPath), { env: { KUKEON_CONFIG: config } });

  fs.writeFileSync(config, 'plugins:\n  store-yaml: {}\n  ./netcheck: {}\n');
  const [ls, doctor, json] = await Promise.all([k(['plugins', 'ls']), k(['doctor']), k(['doctor', '-o', 'json'])]);
  assert.match(ls.stdout, /netcheck\s+3\.1\.0\s+network\s+ok/);
  assert.is(doctor.code, 0, doctor.stdout + doctor.stderr);
  assert.match(doctor.stdout, /netcheck\s+network\s+ok/);
  assert.match(doctor.stdout, /network\.diagnose\s+bridge-module\s+ok\s+br_netfilter loaded/);
  assert.match(doctor.stdout, /network\.diagnose\s+uplink\s+warn\s+no default route \(fix: add one\)/);
  const report = JSON.parse(json.stdout) as { findings: { service: string; check: string; status: string }[] };
  assert.equal(
    report.findings.filter((f) => f.service === 'network.diagnose').map((f) => [f.check, f.status]),
    [
      ['bridge-module', 'ok'],
      ['uplink', 'warn'],
    ],
  );

  fs.writeFileSync(config, 'plugins:\n  store-yaml: {}\n  ./netcheck: { broken: true }\n');
  const failing = await k(['doctor']);
  assert.is(failing.code, 1, failing.stdout);
  assert.match(failing.stdout, /network\.diagnose\s+uplink\s+error\s+no default route/);
  assert.match(failing.stdout, /problems found/);
});

function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  if (!fs.existsSync(path.join(root, rel))) return out;
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (!rel && e.name === 'run') continue;
    if (e.isDirectory()) out.push(...listFiles(root, r));
    else out.push(r);
  }
  return out.sort();
}

test.run();
