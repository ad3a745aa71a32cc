// Secrets: every refused shape of a `kind: Secret` document and of a container's `secrets`, each naming its field
// path, and no message ever quoting a value (a marker is grepped for in each one).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateDocument } from '../src/host/validation/validate-document';
import { validateSecretDocument } from '../src/host/secrets/validate-secret';
import { validateInput, validateManifest } from '../src/host/controller/documents';
import { createHooks } from '../src/host/hooks';
import type { KukeonError } from '../sdk';
import Ajv from 'ajv';
import { SECRET_SCHEMA } from '../src/host/secrets/secret-schema';

const MARKER = 'MARKER-v4lue-never-shown';

function refusedBy(fn: () => unknown, code: string, field: string): KukeonError {
  try {
    fn();
  } catch (err) {
    const e = err as KukeonError;
    assert.is(e.code, code, e.message);
    assert.is(e.details.field, field, e.message);
    assert.ok(!e.message.includes(MARKER) && !JSON.stringify(e.details).includes(MARKER), `the value leaked: ${e.message}`);
    return e;
  }
  throw new assert.Assertion({
    message: `expected ${code} at ${field}`,
    operator: 'throws',
    expects: code,
    actual: 'valid',
    generated: true,
  });
}

const secret = (metadata: Record<string, unknown>, spec: unknown = { data: MARKER }, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1beta1',
  kind: 'Secret',
  metadata: { name: 'token', ...metadata },
  spec,
  ...extra,
});

test('a Secret: realm-, space-, stack- and cell-scoped; the deepest coordinate is the scope', () => {
  assert.equal(validateSecretDocument(secret({ realm: 'main' }), 1).ref, { kind: 'Secret', path: ['main', 'token'] });
  const cellScoped = validateSecretDocument(secret({ realm: 'main', space: 'blog', stack: 'wp', cell: 'web' }), 1);
  assert.equal(cellScoped.scope, ['main', 'blog', 'wp', 'web']);
  assert.equal(validateSecretDocument(secret({ realm: 'main' }, { fromFile: '/etc/app/token' }), 1).doc.spec, {
    fromFile: '/etc/app/token',
  });
});

test('`kuke schema secret` accepts what apply accepts', () => {
  const check = new Ajv({ strict: false }).compile(SECRET_SCHEMA);
  for (const doc of [secret({ realm: 'main' }), secret({ realm: 'main', space: 'blog', stack: 'wp', cell: 'web' }, { fromFile: '/x' })]) {
    validateSecretDocument(doc, 1);
    assert.ok(check(doc), JSON.stringify(check.errors));
  }
  assert.not.ok(check(secret({ realm: 'main' }, { data: 'x', other: 1 })));
});

test('a Secret: each refused shape names its field, never the value', () => {
  const bad = (raw: unknown, code: string, field: string) => refusedBy(() => validateSecretDocument(raw, 2), code, field);
  bad(secret({}), 'KUKEON_E_INVALID', 'metadata.realm');
  bad(secret({ realm: 'main', stack: 'wp' }), 'KUKEON_E_INVALID', 'metadata.stack');
  bad(secret({ realm: 'main', space: 'blog', cell: 'web' }), 'KUKEON_E_INVALID', 'metadata.cell');
  bad(secret({ realm: 'Main' }), 'KUKEON_E_INVALID_NAME', 'metadata.realm');
  bad(secret({ realm: 'main', name: 'a/../b' }), 'KUKEON_E_INVALID_NAME', 'metadata.name');
  bad(secret({ realm: 'main', namespace: 'x' }), 'KUKEON_E_INVALID', 'metadata.namespace');
  bad(secret({ realm: 'kukeon-system' }), 'KUKEON_E_SYSTEM', 'metadata.realm');
  bad(secret({ realm: 'main' }, { data: MARKER, fromFile: '/x' }), 'KUKEON_E_INVALID', 'spec');
  bad(secret({ realm: 'main' }, {}), 'KUKEON_E_INVALID', 'spec');
  bad(secret({ realm: 'main' }, { data: '' }), 'KUKEON_E_INVALID', 'spec.data');
  bad(secret({ realm: 'main' }, { data: 42 }), 'KUKEON_E_INVALID', 'spec.data');
  bad(secret({ realm: 'main' }, { data: MARKER, keys: MARKER }), 'KUKEON_E_INVALID', 'spec.keys');
  bad(secret({ realm: 'main' }, { fromFile: 'relative/path' }), 'KUKEON_E_INVALID', 'spec.fromFile');
  bad(secret({ realm: 'main' }, { fromFile: '/etc/../shadow' }), 'KUKEON_E_INVALID', 'spec.fromFile');
  bad(secret({ realm: 'main' }, MARKER), 'KUKEON_E_INVALID', 'spec');
  bad(secret({ realm: 'main' }, undefined, { apiVersion: 'v2' }), 'KUKEON_E_API_VERSION', 'apiVersion');
  bad(secret({ realm: 'main' }, { data: MARKER }, { extra: MARKER }), 'KUKEON_E_INVALID', 'extra');
});

const cell = (secrets: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1beta1',
  kind: 'Cell',
  metadata: { name: 'web' },
  spec: { realmId: 'main', spaceId: 'blog', stackId: 'wp', containers: [{ id: 'app', image: 'busybox', secrets, ...extra }] },
});

test("a container's secrets: env, file, and a Secret of any scope are accepted; the field is no longer unsupported", () => {
  const ok = [
    { name: 'DB_PASSWORD', fromEnv: 'DB_PASSWORD' },
    { name: 'token', secretRef: { name: 'token', realm: 'main', space: 'blog' }, mountPath: '/run/secrets/token' },
    { name: 'tls.key', fromFile: '/etc/app/tls.key', mountPath: '/etc/tls/tls.key' },
  ];
  const { doc } = validateDocument(cell(ok), 1);
  assert.equal((doc.spec as { containers: { secrets: unknown }[] }).containers[0].secrets, ok);
  // a standalone Container document takes them too
  validateDocument(
    {
      kind: 'Container',
      metadata: { name: 'app' },
      spec: { realmId: 'main', spaceId: 'blog', stackId: 'wp', cellId: 'web', image: 'b', secrets: ok },
    },
    1,
  );
});

test("a container's secrets: each refused shape names its field path", () => {
  const at = 'spec.containers[0].secrets';
  const bad = (secrets: unknown, code: string, field: string, extra?: Record<string, unknown>) =>
    refusedBy(() => validateDocument(cell(secrets, extra), 1), code, field);
  bad([{ fromEnv: 'X' }], 'KUKEON_E_INVALID', `${at}[0].name`);
  bad([{ name: 'A' }], 'KUKEON_E_INVALID', `${at}[0]`);
  bad([{ name: 'A', fromEnv: 'X', fromFile: '/x' }], 'KUKEON_E_INVALID', `${at}[0]`);
  bad([{ name: 'A', fromEnv: 'X', secretRef: { name: 't', realm: 'main' } }], 'KUKEON_E_INVALID', `${at}[0]`);
  bad([{ name: '1BAD', fromEnv: 'X' }], 'KUKEON_E_INVALID', `${at}[0].name`);
  bad([{ name: 'a/b', fromEnv: 'X', mountPath: '/run/x' }], 'KUKEON_E_INVALID', `${at}[0].name`);
  bad([{ name: '..', fromEnv: 'X', mountPath: '/run/x' }], 'KUKEON_E_INVALID', `${at}[0].name`);
  bad(
    [
      { name: 'A', fromEnv: 'X' },
      { name: 'A', fromEnv: 'Y' },
    ],
    'KUKEON_E_INVALID',
    `${at}[1].name`,
  );
  bad([{ name: 'A', fromEnv: 'X' }], 'KUKEON_E_INVALID', `${at}[0].name`, { env: ['A=1'] });
  bad([{ name: 'A', fromEnv: 'not-a-var' }], 'KUKEON_E_INVALID', `${at}[0].fromEnv`);
  bad([{ name: 'A', fromFile: 'relative' }], 'KUKEON_E_INVALID', `${at}[0].fromFile`);
  bad([{ name: 'A', fromFile: '/etc/../x' }], 'KUKEON_E_INVALID', `${at}[0].fromFile`);
  bad([{ name: 'A', secretRef: { name: 't' } }], 'KUKEON_E_INVALID', `${at}[0].secretRef.realm`);
  bad([{ name: 'A', secretRef: { name: 't', realm: 'main', stack: 'wp' } }], 'KUKEON_E_INVALID', `${at}[0].secretRef.stack`);
  bad([{ name: 'A', secretRef: { name: 'T', realm: 'main' } }], 'KUKEON_E_INVALID', `${at}[0].secretRef.name`);
  bad([{ name: 'A', secretRef: { name: 't', realm: 'main', value: MARKER } }], 'KUKEON_E_INVALID', `${at}[0].secretRef.value`);
  bad([{ name: 'a', fromEnv: 'X', mountPath: 'run/a' }], 'KUKEON_E_INVALID', `${at}[0].mountPath`);
  bad([{ name: 'a', fromEnv: 'X', mountPath: '/run/../etc/a' }], 'KUKEON_E_INVALID', `${at}[0].mountPath`);
  for (const target of ['/', '/proc/x', '/sys/a', '/dev/b', '/proc'])
    bad([{ name: 'a', fromEnv: 'X', mountPath: target }], 'KUKEON_E_INVALID', `${at}[0].mountPath`);
  bad(
    [
      { name: 'a', fromEnv: 'X', mountPath: '/run/a' },
      { name: 'b', fromEnv: 'Y', mountPath: '/run/a' },
    ],
    'KUKEON_E_INVALID',
    `${at}[1].mountPath`,
  );
  bad([{ name: 'a', fromEnv: 'X', value: MARKER }], 'KUKEON_E_INVALID', `${at}[0].value`);
  bad('not-a-list', 'KUKEON_E_INVALID', `${at}`);
});

test('an input: a Secret named twice is refused; a Secret where none may be given is refused', async () => {
  const { host: hooks } = createHooks({ current: () => 'kukeon', isActive: () => true });
  const doc = `kind: Secret\nmetadata: { name: t, realm: main }\nspec: { data: ${MARKER} }\n`;
  await validateManifest(hooks, `${doc}---\n${doc}`, 'in').then(
    () => assert.unreachable('a duplicate was accepted'),
    (err: KukeonError) => {
      assert.match(err.message, /secret\/main\/t is also defined by document 1/);
      assert.ok(!err.message.includes(MARKER));
    },
  );
  await validateInput(hooks, doc, 'in').then(
    () => assert.unreachable('a Secret was accepted without a taker'),
    (err: KukeonError) => assert.is(err.code, 'KUKEON_E_INVALID'),
  );
});

test.run();
