// `kuke explain KIND[.FIELD...]` through the compiled CLI: a field's type, description and fields read from the
// kind's JSON Schema, --recursive's indented subtree, errors naming the path and the choices, and no daemon or
// state needed. The walk itself (items, oneOf/anyOf object branches) is checked on a schema made for it.

import fs from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SCHEMAS, VOLUME_SCHEMA } from '../src/host/validation/schemas';
import { resolveSchemaField, schemaChildren, schemaType } from '../src/host/validation/schema-fields';
import { kukeAsync, kukeEnv } from './helpers/kuke';
import type { KukeResult } from './helpers/kuke';

type Props = Record<string, { description: string; properties?: Props; items?: { properties: Props } }>;
const cellSpec = (SCHEMAS.Cell.properties as Props).spec.properties!;
const containerFields = cellSpec.containers.items!.properties;
const volumeFields = containerFields.volumes.items!.properties;

function ok(r: KukeResult, what: string): string {
  assert.is(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  assert.is(r.stderr, '', what);
  return r.stdout;
}

/** The lines of FIELDS: (up to the end), each `name<TAB><type>[ -required-]` or a description line. */
const fieldsPart = (out: string) => out.slice(out.indexOf('\nFIELDS:\n') + '\nFIELDS:\n'.length).split('\n');
/** `{ name: '<type>[ -required-]' }` of the fields listed at one indent. */
function listed(out: string, indent = '  '): Record<string, string> {
  const rows: Record<string, string> = {};
  for (const line of fieldsPart(out)) {
    const m = new RegExp(`^${indent}([A-Za-z]\\w*)\\t(.*)$`).exec(line);
    if (m) rows[m[1]] = m[2];
  }
  return rows;
}
const unwrap = (out: string, from: string) => {
  const after = out.slice(out.indexOf(from) + from.length);
  return after
    .split('\n\n')[0]
    .split('\n')
    .map((l) => l.trim())
    .join(' ');
};

test('explain cell.spec.containers.volumes: kind, field, []object, its description and every field of an item', async () => {
  const out = ok(await kukeAsync(['explain', 'cell.spec.containers.volumes']), 'explain');
  assert.match(out, /^KIND: {5}Cell\nVERSION: {2}v1beta1\nFIELD: {4}spec\.containers\.volumes\nTYPE: {5}\[\]object\n/);
  assert.is(unwrap(out, 'DESCRIPTION:\n'), containerFields.volumes.description);
  const rows = listed(out);
  assert.equal(Object.keys(rows), Object.keys(volumeFields), 'every field of a volume item, in order');
  assert.is(rows.target, '<string> -required-');
  assert.is(rows.mode, '<string|integer>');
  assert.is(rows.readOnly, '<boolean>');
  assert.is(rows.volumeRef, '<object>');
  // each field's description follows it, indented four spaces
  const lines = fieldsPart(out);
  const at = lines.indexOf('  ensure\t<boolean>');
  const text = lines
    .slice(at + 1)
    .filter((_, i, all) => all.slice(0, i + 1).every((l) => l.startsWith('    ')))
    .map((l) => l.trim())
    .join(' ');
  assert.is(text, volumeFields.ensure.description);
});

test('explain of a kind (by alias), a oneOf size, an enum, a map, and through --recursive', async () => {
  const [kind, size, policy, labels, rec, secret] = await Promise.all([
    kukeAsync(['explain', 'ce']),
    kukeAsync(['explain', 'cell.spec.containers.resources.memory.max']),
    kukeAsync(['explain', 'container.spec.restartPolicy']),
    kukeAsync(['explain', 'space.metadata.labels']),
    kukeAsync(['explain', 'vol', '--recursive']),
    kukeAsync(['explain', 'secrets.spec']),
  ]);
  const k = ok(kind, 'explain ce');
  assert.match(k, /^KIND: {5}Cell\nVERSION: {2}v1beta1\nTYPE: {5}object\n/, 'no FIELD line for the kind itself');
  assert.is(unwrap(k, 'DESCRIPTION:\n'), SCHEMAS.Cell.description as string);
  assert.equal(listed(k), {
    apiVersion: '<string>',
    kind: '<string> -required-',
    metadata: '<object> -required-',
    spec: '<object> -required-',
    status: '<object>',
  });
  const s = ok(size, 'explain memory.max');
  assert.match(s, /\nTYPE: {5}integer\|string\n/);
  assert.not.ok(s.includes('FIELDS:'), 'a scalar has no fields');
  assert.match(ok(policy, 'explain restartPolicy'), /\nTYPE: {5}string\nVALUES: {3}never, always, on-failure, unless-stopped\n/);
  assert.match(ok(labels, 'explain labels'), /\nTYPE: {5}map\[string\]string\n/);
  const r = ok(rec, 'explain vol --recursive');
  assert.match(r, /^KIND: {5}Volume\n/);
  const volumeMeta = (VOLUME_SCHEMA.properties as Props).metadata.properties!;
  assert.equal(
    fieldsPart(r).filter(Boolean),
    [
      'apiVersion\t<string>',
      'kind\t<string> -required-',
      'metadata\t<object> -required-',
      ...Object.keys(volumeMeta).map(
        (n) => `  ${n}\t<${n === 'labels' ? 'map[string]string' : 'string'}>${['name', 'realm'].includes(n) ? ' -required-' : ''}`,
      ),
      'spec\t<object>',
      '  reclaimPolicy\t<string>',
      'status\t<object>',
    ].map((l) => `  ${l}`),
    'the whole tree, two spaces per level, no descriptions',
  );
  assert.equal(Object.keys(listed(ok(secret, 'explain secrets.spec'))), ['data', 'fromFile']);
});

test('unknown kind, unknown field, a field under a scalar: exit 1 naming the path and the choices', async () => {
  const [kind, field, deep, leaf] = await Promise.all([
    kukeAsync(['explain', 'pod.spec']),
    kukeAsync(['explain', 'cell.spec.containers.volume']),
    kukeAsync(['explain', 'cell.spec.containers.volumes.volumeRef.namespace']),
    kukeAsync(['explain', 'cell.spec.realmId.x']),
  ]);
  assert.is(kind.code, 1, kind.stderr);
  assert.is(
    kind.stderr,
    'Error: unknown kind "pod" (kinds: realm, space, stack, cell, container, volume, secret) [KUKEON_E_UNKNOWN_KIND]\n',
  );
  assert.is(field.code, 1, field.stderr);
  assert.is(
    field.stderr,
    `Error: cell.spec.containers has no field "volume" (fields: ${Object.keys(containerFields).join(', ')}) [KUKEON_E_NOT_FOUND]\n`,
  );
  assert.is(deep.code, 1);
  assert.match(deep.stderr, /cell\.spec\.containers\.volumes\.volumeRef has no field "namespace" \(fields: name, realm, space, stack\)/);
  assert.is(leaf.code, 1);
  assert.match(leaf.stderr, /cell\.spec\.realmId has no field "x": it is string and has no fields \[KUKEON_E_NOT_FOUND\]/);
  for (const r of [kind, field, deep, leaf]) assert.is(r.stdout, '');
});

test('explain needs no daemon and writes no state', async () => {
  const e = kukeEnv();
  const r = await e.runAsync(['explain', 'realm.spec'], { env: { KUKEON_SOCKET: `${e.dir}/nobody.sock` } });
  assert.match(ok(r, 'explain realm.spec'), /\n {2}registryCredentials\t<\[\]object>\n/);
  assert.not.ok(fs.existsSync(e.runPath), 'the run path is not created');
  const d = await kukeAsync(['explain', 'realm'], { env: { KUKEON_SOCKET: `${e.dir}/nobody.sock` } });
  assert.match(ok(d, 'explain realm through the default route'), /^KIND: {5}Realm\n/);
});

test('the walk goes through arrays and the object branches of oneOf and anyOf, merging their fields', () => {
  const schema = {
    type: 'object',
    properties: {
      mounts: {
        type: 'array',
        items: {
          oneOf: [
            { type: 'string' },
            { type: 'object', required: ['a'], properties: { a: { type: 'string', description: 'A' } } },
            { anyOf: [{ type: 'object', properties: { b: { type: 'array', items: { type: 'integer' } }, a: { type: 'number' } } }] },
          ],
        },
      },
    },
  };
  const mounts = resolveSchemaField(schema, 'x', ['mounts']);
  assert.is(schemaType(mounts), '[](string|object)', 'each type once, the alternatives of an item in parentheses');
  assert.equal(
    schemaChildren(mounts).map((c) => [c.name, schemaType(c.schema), c.required]),
    [
      ['a', 'string', true],
      ['b', '[]integer', false],
    ],
  );
  assert.is(resolveSchemaField(schema, 'x', ['mounts', 'a']).description, 'A');
  assert.throws(() => resolveSchemaField(schema, 'x', ['mounts', 'c']), /x\.mounts has no field "c" \(fields: a, b\)/);
});

test.run();
