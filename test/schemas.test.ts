// The JSON Schemas as shipped: every field described (kuke explain and the manifest reference read them), the
// committed schemas/v1beta1/<kind>.json equal to what the code and `kuke schema --all --out` generate, each file
// self-contained, and every example manifest valid against those files under a plain Ajv built from the files
// alone (not kukeon's validation path).

import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { KIND_SCHEMAS, schemaFileName, schemaText } from '../src/host/validation/kind-schemas';
import type { JsonSchema } from '../src/host/validation/kind-schemas';
import { REPO_ROOT, kuke, kukeEnv } from './helpers/kuke';
import { tmpDir } from './helpers/tmp';

const SHIPPED = path.join(REPO_ROOT, 'schemas', 'v1beta1');

/** Every property (at any depth: properties, items, oneOf/anyOf branches, additionalProperties) without a description. */
function undescribed(s: JsonSchema, at: string): string[] {
  const out: string[] = [];
  const sub = (v: unknown, where: string) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(...undescribed(v as JsonSchema, where));
  };
  for (const [name, child] of Object.entries((s.properties as Record<string, JsonSchema>) ?? {})) {
    const p = `${at}.${name}`;
    if (typeof child.description !== 'string' || child.description.trim() === '') out.push(p);
    else if (/\n/.test(child.description)) out.push(`${p} (more than one line)`);
    sub(child, p);
  }
  sub(s.items, `${at}[]`);
  sub(s.additionalProperties, `${at}{}`);
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const)
    ((s[key] as unknown[]) ?? []).forEach((b, i) => {
      sub(b, `${at}(${key}[${i}])`);
    });
  return out;
}

test('the walk finds a field without a description wherever it is', () => {
  const bad: JsonSchema = {
    type: 'object',
    properties: {
      list: {
        type: 'array',
        description: 'x',
        items: { type: 'object', properties: { inItems: { type: 'string' } } },
      },
      either: {
        description: 'x',
        oneOf: [{ type: 'string' }, { type: 'object', properties: { inBranch: { type: 'string' } } }],
      },
      map: { type: 'object', description: 'x', additionalProperties: { type: 'object', properties: { inMap: {} } } },
      top: { type: 'string' },
    },
  };
  assert.equal(undescribed(bad, 'bad').sort(), ['bad.either(oneOf[1]).inBranch', 'bad.list[].inItems', 'bad.map{}.inMap', 'bad.top']);
});

test('every field of every kind has a one-paragraph description, and every kind too', () => {
  assert.equal(Object.keys(KIND_SCHEMAS), ['realm', 'space', 'stack', 'cell', 'container', 'volume', 'secret']);
  for (const [kind, schema] of Object.entries(KIND_SCHEMAS)) {
    assert.equal(undescribed(schema, kind), [], `${kind}: fields without a description`);
    assert.type(schema.description, 'string', `${kind} has a description`);
  }
});

test('schemas/v1beta1 holds exactly what the code generates, one self-contained file per kind', () => {
  const expected = Object.keys(KIND_SCHEMAS).map(schemaFileName).sort();
  assert.equal(fs.readdirSync(SHIPPED).sort(), expected, 'the shipped files (npm run schemas writes them)');
  for (const [kind, schema] of Object.entries(KIND_SCHEMAS)) {
    const text = fs.readFileSync(path.join(SHIPPED, schemaFileName(kind)), 'utf8');
    assert.ok(text === schemaText(schema), `schemas/v1beta1/${kind}.json drifted from the code: run npm run build && npm run schemas`);
    assert.not.ok(/"\$ref"/.test(text), `${kind}.json refers to no other schema`);
    assert.is(JSON.parse(text).$id, `https://kukeon.io/schemas/v1beta1/${kind}.json`);
  }
});

test('kuke schema --all --out DIR writes the shipped files; --all alone is a usage error', () => {
  const dir = path.join(tmpDir('kukeon-schemas-'), 'out');
  const r = kuke(['schema', '--all', '--out', dir]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(
    r.stdout.trim().split('\n'),
    Object.keys(KIND_SCHEMAS).map((k) => path.join(dir, `${k}.json`)),
  );
  for (const file of fs.readdirSync(SHIPPED))
    assert.is(fs.readFileSync(path.join(dir, file), 'utf8'), fs.readFileSync(path.join(SHIPPED, file), 'utf8'), file);
  const one = kuke(['schema', 'vol', '--out', dir]);
  assert.is(one.code, 0, one.stderr);
  assert.is(one.stdout, `${path.join(dir, 'volume.json')}\n`);
  const noOut = kuke(['schema', '--all']);
  assert.is(noOut.code, 2);
  assert.match(noOut.stderr, /--all needs --out DIR/);
});

/** Every YAML file under examples/, split into documents; the manifests are the documents with apiVersion and kind. */
function exampleManifests(): { where: string; doc: Record<string, unknown> }[] {
  const out: { where: string; doc: Record<string, unknown> }[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== 'node_modules') walk(p);
      else if (/\.ya?ml$/.test(e.name))
        YAML.parseAllDocuments(fs.readFileSync(p, 'utf8')).forEach((d, i) => {
          const doc = d.toJS() as Record<string, unknown> | null;
          if (doc && typeof doc.apiVersion === 'string' && typeof doc.kind === 'string')
            out.push({ where: `${path.relative(REPO_ROOT, p)} document ${i}`, doc });
        });
    }
  };
  walk(path.join(REPO_ROOT, 'examples'));
  return out;
}

test('every example manifest is valid against the shipped schema of its kind (plain Ajv, from the files)', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const check = (kind: string) => ajv.getSchema(`https://kukeon.io/schemas/v1beta1/${kind.toLowerCase()}.json`);
  for (const file of fs.readdirSync(SHIPPED)) ajv.addSchema(JSON.parse(fs.readFileSync(path.join(SHIPPED, file), 'utf8')));
  const manifests = exampleManifests();
  const kinds = new Set(manifests.map((m) => m.doc.kind));
  assert.ok(manifests.length >= 8, `the examples hold manifests (found ${manifests.length})`);
  for (const k of ['Realm', 'Space', 'Stack', 'Cell', 'Volume', 'Secret']) assert.ok(kinds.has(k), `an example ${k}`);
  for (const { where, doc } of manifests) {
    const validate = check(doc.kind as string);
    assert.ok(validate, `${where}: no shipped schema for kind ${doc.kind}`);
    assert.ok(validate!(doc), `${where}: ${ajv.errorsText(validate!.errors)}`);
  }
  // the same validator refuses what kukeon refuses, so a pass above means something
  const cell = structuredClone(manifests.find((m) => m.doc.kind === 'Cell')!.doc) as { spec: { containers: Record<string, unknown>[] } };
  cell.spec.containers[0].imagePullPolicy = 'Always';
  assert.not.ok(check('Cell')!(cell), 'an unknown container field');
  const volume = { apiVersion: 'v1beta1', kind: 'Volume', metadata: { name: 'v', realm: 'r' }, spec: { reclaimPolicy: 'Keep' } };
  assert.not.ok(check('Volume')!(volume), 'a reclaimPolicy outside the enum');
});

test('kukeon itself accepts every example manifest file (apply --dry-run, store only)', () => {
  const files = [...new Set(exampleManifests().map((m) => m.where.replace(/ document \d+$/, '')))];
  assert.ok(files.includes('examples/features.yaml') && files.includes('examples/quickstart.yaml'), files.join(', '));
  for (const file of files) {
    const r = kukeEnv().run(['apply', '--dry-run', '-f', path.join(REPO_ROOT, file)]);
    assert.is(r.code, 0, `${file}: ${r.stderr}`);
    assert.match(r.stdout, /dry run: nothing was written/);
  }
});

test.run();
