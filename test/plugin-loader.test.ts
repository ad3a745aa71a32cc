import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Ajv from 'ajv';
import { createHost } from '../src/host';
import { BUILTIN_PLUGINS } from '../src/host/builtins';
import { checkConfigSchema } from '../src/host/plugin-config';
import { SCHEMAS, VOLUME_SCHEMA } from '../src/host/validation/schemas';
import { SECRET_SCHEMA } from '../src/host/secrets/secret-schema';
import storeYaml from '../plugins/store-yaml';
import { PluginSkip } from '../sdk';
import type { PluginHost } from '../sdk';
import { fakePlugin, testHost } from './helpers/hosts';
import { tmpDir } from './helpers/tmp';

async function rejects(p: Promise<unknown>, code: string): Promise<Error & { code: string }> {
  try {
    await p;
  } catch (err) {
    assert.is((err as { code: string }).code, code, (err as Error).message);
    return err as Error & { code: string };
  }
  throw new assert.Assertion({ message: `expected a rejection with ${code}`, operator: 'rejects', expects: code, actual: 'resolved' });
}

test('plugins are applied after the plugins filling the slots they require, whatever the listed order', async () => {
  const order: string[] = [];
  const net = fakePlugin('net', 'network', () => void order.push('net'), { requires: ['runtime'] });
  const rt = fakePlugin('rt', 'runtime', () => void order.push('rt'), { requires: ['store'] });
  const host = await testHost([net, rt]);
  assert.equal(order, ['rt', 'net']);
  assert.equal(
    host.plugins.map((p) => [p.name, p.state]),
    [
      ['store-yaml', 'ok'],
      ['rt', 'ok'],
      ['net', 'ok'],
    ],
  );
});

test('two plugins in one slot are refused with a coded error naming both', async () => {
  const e = await rejects(
    testHost([fakePlugin('rt-a', 'runtime', () => {}), fakePlugin('rt-b', 'runtime', () => {})]),
    'KUKEON_E_SLOT_CONFLICT',
  );
  assert.match(e.message, /rt-a and rt-b both fill slot runtime/);
});

test('the host refuses to boot without a store, and when the store plugin skips', async () => {
  await rejects(
    createHost({ runPath: tmpDir(), env: {}, plugins: [{ plugin: fakePlugin('rt', 'runtime', () => {}) }] }),
    'KUKEON_E_NO_STORE',
  );
  const skipping = fakePlugin('store-x', 'store', () => {
    throw new PluginSkip('disk not mounted');
  });
  const e = await rejects(createHost({ runPath: tmpDir(), env: {}, plugins: [{ plugin: skipping }] }), 'KUKEON_E_NO_STORE');
  assert.match(e.message, /store-x is skip: disk not mounted/);
});

test('a plugin that skips or fails gets its status and reason; the host still boots; its taps never run', async () => {
  let tapRan = false;
  const broken = fakePlugin('broken', 'network', (host) => {
    host.hooks.create.for('Realm').tapPromise('broken', async () => {
      tapRan = true;
    });
    host.services.provide('network.diagnose', { diagnose: async () => [] });
    throw new Error('cannot parse its own files');
  });
  const skipper = fakePlugin('skipper', 'runtime', () => {
    throw new PluginSkip('containerd socket /nope not found');
  });
  const host = await testHost([broken, skipper]);
  const byName = Object.fromEntries(host.plugins.map((p) => [p.name, p]));
  assert.is(byName.broken.state, 'error');
  assert.match(byName.broken.reason!, /cannot parse its own files/);
  assert.is(byName.skipper.state, 'skip');
  assert.is(byName.skipper.reason, 'containerd socket /nope not found');
  assert.is(host.services.get('network.diagnose'), undefined, 'services of a failed plugin are dropped');
  await host.controller.apply('kind: Realm\nmetadata: { name: r1 }\n');
  assert.is(tapRan, false);
});

test('a plugin requiring an empty slot is an error; one requiring a skipped slot is skipped', async () => {
  const needsRuntime = fakePlugin('net', 'network', () => {}, { requires: ['runtime'] });
  let host = await testHost([needsRuntime]);
  let st = host.plugins.find((p) => p.name === 'net')!;
  assert.is(st.state, 'error');
  assert.match(st.reason!, /requires slot runtime, which no loaded plugin fills/);
  const rt = fakePlugin('rt', 'runtime', () => {
    throw new PluginSkip('no socket');
  });
  host = await testHost([needsRuntime, rt]);
  st = host.plugins.find((p) => p.name === 'net')!;
  assert.is(st.state, 'skip');
  assert.match(st.reason!, /rt is skip/);
});

test('a cycle of requires is reported as an error status', async () => {
  const a = fakePlugin('a', 'network', () => {}, { requires: ['cgroups'] });
  const b = fakePlugin('b', 'cgroups', () => {}, { requires: ['network'] });
  const host = await testHost([a, b]);
  assert.ok(host.plugins.filter((p) => p.name === 'a' || p.name === 'b').every((p) => p.state === 'error'));
  assert.ok(host.plugins.some((p) => /cycle/.test(p.reason ?? '')));
});

test('plugin metadata is checked before anything of the plugin runs', async () => {
  let applied = false;
  const bad = { name: 'Bad Name', version: '1', apply: () => void (applied = true) } as never;
  const noVersion = { name: 'nover', apply: () => void (applied = true) } as never;
  const host = await createHost({ runPath: tmpDir(), env: {}, plugins: [{ plugin: storeYaml }, { plugin: bad }, { plugin: noVersion }] });
  assert.is(applied, false);
  assert.equal(host.plugins.filter((p) => p.state === 'error').length, 2);
  assert.ok(host.plugins.some((p) => /version must be a non-empty string/.test(p.reason ?? '')));
});

const schemaPlugin = (seen: Record<string, unknown>[]) =>
  fakePlugin('sockety', 'runtime', (_host: PluginHost, config: Record<string, unknown>) => void seen.push(config), {
    configSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        socket: { type: 'string', default: '/run/default.sock', 'x-flag': '--sock', 'x-env': 'TEST_SOCK' },
        retries: { type: 'integer', minimum: 0, default: 3 },
      },
    },
  });

test('config precedence is flag > env > file > default, with types coerced and defaults filled', async () => {
  const cases: [Record<string, string | undefined>, Record<string, string>, unknown, string][] = [
    [{}, {}, undefined, '/run/default.sock'],
    [{}, {}, { socket: '/from/file' }, '/from/file'],
    [{}, { TEST_SOCK: '/from/env' }, { socket: '/from/file' }, '/from/env'],
    [{ '--sock': '/from/flag' }, { TEST_SOCK: '/from/env' }, { socket: '/from/file' }, '/from/flag'],
  ];
  for (const [flags, env, table, want] of cases) {
    const seen: Record<string, unknown>[] = [];
    await createHost({ runPath: tmpDir(), env, flags, plugins: [{ plugin: storeYaml }, { plugin: schemaPlugin(seen), table }] });
    assert.equal(seen[0], { socket: want, retries: 3 });
  }
});

test('a config error names the plugin and the field, and only that plugin fails', async () => {
  const seen: Record<string, unknown>[] = [];
  let host = await createHost({
    runPath: tmpDir(),
    env: {},
    plugins: [{ plugin: storeYaml }, { plugin: schemaPlugin(seen), table: { sokcet: '/x' } }],
  });
  let st = host.plugins.find((p) => p.name === 'sockety')!;
  assert.is(st.state, 'error');
  assert.match(st.reason!, /plugins\.sockety\.sokcet: unknown setting/);
  host = await createHost({
    runPath: tmpDir(),
    env: {},
    plugins: [{ plugin: storeYaml }, { plugin: schemaPlugin(seen), table: { retries: -1 } }],
  });
  st = host.plugins.find((p) => p.name === 'sockety')!;
  assert.match(st.reason!, /plugins\.sockety\.retries: must be >= 0/);
  assert.is(seen.length, 0);
  assert.is(host.plugins.find((p) => p.name === 'store-yaml')!.state, 'ok');
});

test('a plugin may only provide services of its own slot, once', async () => {
  const sneaky = fakePlugin('sneaky', 'network', (host) => host.services.provide('runtime.images', {} as never));
  const host = await testHost([sneaky]);
  const st = host.plugins.find((p) => p.name === 'sneaky')!;
  assert.is(st.state, 'error');
  assert.match(st.reason!, /cannot provide service runtime\.images/);
});

test('the configuration file loads exactly the listed plugins; an unknown name is a module that is not found', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'kukeon.yaml');
  fs.writeFileSync(file, 'plugins:\n  store-yaml: {}\n');
  const host = await createHost({ runPath: path.join(dir, 'run'), configPath: file, env: {} });
  assert.equal(
    host.plugins.map((p) => p.name),
    ['store-yaml'],
  );
  assert.is(host.configPath, file);
  // A key that is not a built-in name is a module specifier (see third-party-plugins.test.ts): a typo is an
  // error status naming it, and the host still boots.
  fs.writeFileSync(file, 'plugins:\n  store-yaml: {}\n  contianerd: {}\n');
  const typo = (await createHost({ runPath: path.join(dir, 'run'), configPath: file, env: {} })).plugins.find(
    (p) => p.name === 'contianerd',
  );
  assert.is(typo?.state, 'error');
  assert.match(typo?.reason ?? '', /plugin module contianerd: not found .*not a built-in plugin either: .*store-yaml/);
  await rejects(createHost({ runPath: path.join(dir, 'run'), configPath: path.join(dir, 'missing.yaml'), env: {} }), 'KUKEON_E_CONFIG');
  fs.writeFileSync(file, 'plugins:\n  store-yaml: { bogus: 1 }\n');
  await rejects(createHost({ runPath: path.join(dir, 'run'), configPath: file, env: {} }), 'KUKEON_E_NO_STORE');
});

test('without a configuration file every built-in loads', async () => {
  const host = await createHost({ runPath: tmpDir(), configPath: undefined, env: { KUKEON_CONFIG: '' } });
  assert.ok(host.plugins.some((p) => p.name === 'store-yaml' && p.state === 'ok'));
  assert.is(host.configPath, undefined);
});

test('a plugin with an invalid config schema is an error; the built-ins, loaded without that check, pass it', async () => {
  const broken = fakePlugin('broken', 'runtime', () => undefined, {
    configSchema: { type: 'object', properties: { n: { type: 'integr' } } } as never,
  });
  const host = await testHost([broken]);
  const status = host.plugins.find((p) => p.name === 'broken')!;
  assert.is(status.state, 'error');
  assert.match(status.reason ?? '', /plugin broken has an invalid configSchema: .*properties\/n\/type/);
  for (const p of BUILTIN_PLUGINS) assert.is(checkConfigSchema(p.configSchema ?? {}), undefined, p.name);
  const meta = new Ajv({ strict: false });
  for (const [kind, schema] of Object.entries({ ...SCHEMAS, Volume: VOLUME_SCHEMA, Secret: SECRET_SCHEMA }))
    assert.ok(meta.validateSchema(schema), `${kind}: ${meta.errorsText(meta.errors)}`);
});

test.run();
