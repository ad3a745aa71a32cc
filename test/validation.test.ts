import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseManifest } from '../src/host/validation/parse-manifest';
import { validateDocument } from '../src/host/validation/validate-document';
import { nameProblem } from '../src/host/validation/names';
import { cpuSharesToWeight, parseCpuMax, parseSize } from '../sdk';
import type { KukeonError } from '../sdk';

function refused(raw: unknown, code: string, field?: string | RegExp): KukeonError {
  try {
    validateDocument(raw, 3);
  } catch (err) {
    const e = err as KukeonError;
    assert.is(e.code, code, e.message);
    assert.is(e.details.document, 3);
    if (typeof field === 'string') assert.is(e.details.field, field, e.message);
    else if (field) assert.match(e.message, field);
    return e;
  }
  throw new assert.Assertion({ message: `expected ${code}`, operator: 'throws', expects: code, actual: 'valid', generated: true });
}

const cell = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1beta1',
  kind: 'Cell',
  metadata: { name: 'web' },
  spec: { realmId: 'main', spaceId: 'blog', stackId: 'wp', containers, ...extra },
});

test('names: lowercase DNS labels up to 63 characters; no "..", "/", NUL', () => {
  for (const ok of ['a', 'web-1', '0abc', 'a'.repeat(63)]) assert.is(nameProblem(ok), undefined, ok);
  for (const bad of ['', 'A', 'web_1', '-a', 'a-', 'a'.repeat(64), '..', 'a/b', 'a\0b', 'a.b', ' a']) assert.ok(nameProblem(bad), bad);
});

test('a bad name is refused before any path is built, naming document, kind and field', () => {
  const e = refused({ kind: 'Realm', metadata: { name: '../etc' } }, 'KUKEON_E_INVALID_NAME', 'metadata.name');
  assert.is(e.details.kind, 'Realm');
  assert.match(e.describe(), /^document 3 \(Realm "\.\.\/etc"\) field metadata\.name: /);
  refused({ kind: 'Space', metadata: { name: 'ok' }, spec: { realmId: 'Main' } }, 'KUKEON_E_INVALID', 'spec.realmId');
  refused({ kind: 'Realm', metadata: { name: 'x'.repeat(64) } }, 'KUKEON_E_INVALID_NAME', /at most 63/);
});

test('reserved names: realm "run", the system realm, container id "root" off the root', () => {
  refused({ kind: 'Realm', metadata: { name: 'run' } }, 'KUKEON_E_RESERVED_NAME', 'metadata.name');
  refused({ kind: 'Realm', metadata: { name: 'kukeon-system' } }, 'KUKEON_E_SYSTEM', 'metadata.name');
  refused({ kind: 'Realm', metadata: { name: 'x' }, spec: { namespace: 'kukeon-kukeon-system' } }, 'KUKEON_E_SYSTEM', 'spec.namespace');
  refused({ kind: 'Stack', metadata: { name: 's' }, spec: { realmId: 'kukeon-system', spaceId: 'x' } }, 'KUKEON_E_SYSTEM', 'spec.realmId');
  assert.is(
    validateDocument({ kind: 'Realm', metadata: { name: 'kukeon-system' } }, 1, { allowSystem: true }).ref.path[0],
    'kukeon-system',
  );
  refused(
    cell([
      { id: 'root', image: 'busybox' },
      { id: 'b', image: 'busybox', root: true },
    ]),
    'KUKEON_E_INVALID',
    'spec.containers[0].id',
  );
  assert.ok(validateDocument(cell([{ id: 'root', image: 'busybox', root: true }]), 1));
});

test('cells: duplicate container ids, several roots and a dangling rootContainerId are refused', () => {
  refused(
    cell([
      { id: 'a', image: 'x' },
      { id: 'a', image: 'y' },
    ]),
    'KUKEON_E_INVALID',
    'spec.containers[1].id',
  );
  refused(
    cell([
      { id: 'a', image: 'x', root: true },
      { id: 'b', image: 'y', root: true },
    ]),
    'KUKEON_E_INVALID',
    /more than one root container \(a, b\)/,
  );
  refused(cell([{ id: 'a', image: 'x' }], { rootContainerId: 'zz' }), 'KUKEON_E_INVALID', 'spec.rootContainerId');
  refused(
    cell(
      [
        { id: 'a', image: 'x', root: true },
        { id: 'b', image: 'y' },
      ],
      { rootContainerId: 'b' },
    ),
    'KUKEON_E_INVALID',
    'spec.rootContainerId',
  );
  refused(cell([]), 'KUKEON_E_INVALID', 'spec.containers');
  refused(cell([{ id: 'a' }]), 'KUKEON_E_INVALID', 'spec.containers[0].image');
  refused(cell([{ id: 'a', image: 'x', cellId: 'other' }]), 'KUKEON_E_INVALID', 'spec.containers[0].cellId');
});

test('upstream fields kukeon does not implement are refused by name; unknown fields are invalid', () => {
  refused(cell([{ id: 'a', image: 'x', repos: [] }]), 'KUKEON_E_UNSUPPORTED_FIELD', 'spec.containers[0].repos');
  refused(cell([{ id: 'a', image: 'x', hostCgroup: true }]), 'KUKEON_E_UNSUPPORTED_FIELD', 'spec.containers[0].hostCgroup');
  refused(cell([{ id: 'a', image: 'x' }], { nestedCgroupRuntime: true }), 'KUKEON_E_UNSUPPORTED_FIELD', 'spec.nestedCgroupRuntime');
  refused(cell([{ id: 'a', image: 'x' }], { autoDelete: 'yes' }), 'KUKEON_E_INVALID', 'spec.autoDelete');
  refused(
    { kind: 'Realm', metadata: { name: 'r' }, spec: { registryCredentials: [{ username: 'u' }] } },
    'KUKEON_E_INVALID',
    'spec.registryCredentials[0].password',
  );
  refused(cell([{ id: 'a', image: 'x', imagee: 'typo' }]), 'KUKEON_E_INVALID', 'spec.containers[0].imagee');
  refused({ kind: 'Realm', metadata: { name: 'r' }, spec: { namespace: 'bad ns' } }, 'KUKEON_E_INVALID', 'spec.namespace');
});

test('apiVersion and kind are checked; status in a manifest is ignored', () => {
  refused({ apiVersion: 'v1', kind: 'Realm', metadata: { name: 'r' } }, 'KUKEON_E_API_VERSION', 'apiVersion');
  refused({ kind: 'Pod', metadata: { name: 'r' } }, 'KUKEON_E_UNKNOWN_KIND', 'kind');
  const v = validateDocument({ kind: 'Realm', metadata: { name: 'r' }, status: { state: 'Ready' } }, 1);
  assert.is(v.doc.apiVersion, 'v1beta1');
  assert.is(v.doc.status, undefined);
});

test('resources: one shape at every level; upstream container keys are mapped', () => {
  const v = validateDocument(cell([{ id: 'a', image: 'x', memoryLimitBytes: 67108864, cpuShares: 1024, pidsLimit: 64 }]), 1);
  const c = (v.doc.spec as { containers: Record<string, unknown>[] }).containers[0];
  assert.equal(c.resources, { memory: { max: 67108864 }, cpu: { weight: cpuSharesToWeight(1024) }, pids: { max: 64 } });
  assert.is(c.memoryLimitBytes, undefined);
  assert.is(cpuSharesToWeight(1024), 39);
  assert.is(cpuSharesToWeight(2), 1);
  assert.is(cpuSharesToWeight(262144), 10000);
  refused(
    cell([{ id: 'a', image: 'x', memoryLimitBytes: 1, resources: { memory: { max: '1Gi' } } }]),
    'KUKEON_E_INVALID',
    'spec.containers[0].resources.memory.max',
  );
  refused(
    { kind: 'Stack', metadata: { name: 's' }, spec: { realmId: 'r', spaceId: 's', resources: { cpu: { max: '10 100' } } } },
    'KUKEON_E_INVALID',
    'spec.resources.cpu.max',
  );
  refused(
    { kind: 'Space', metadata: { name: 's' }, spec: { realmId: 'r', resources: { memory: { high: '12MB' } } } },
    'KUKEON_E_INVALID',
    /spec\.resources\.memory\.high/,
  );
  assert.ok(
    validateDocument(
      {
        kind: 'Realm',
        metadata: { name: 'r' },
        spec: {
          resources: {
            cpu: { max: '50000 100000', weight: 100 },
            memory: { max: '1Gi', high: 805306368 },
            pids: { max: 100 },
            io: { weight: 50 },
          },
        },
      },
      1,
    ),
  );
  assert.is(parseSize('64Mi'), 67108864);
  assert.is(parseSize('12MB'), undefined);
  assert.equal(parseCpuMax('max'), { quota: undefined, period: 100000 });
  assert.equal(parseCpuMax('20000 50000'), { quota: 20000, period: 50000 });
  assert.is(parseCpuMax('max 10'), undefined);
});

test('multi-document input: empty documents are skipped, indexes count the real ones, bad YAML names its document', () => {
  const docs = parseManifest('---\nkind: Realm\nmetadata: {name: a}\n---\n---\nkind: Realm\nmetadata: {name: b}\n');
  assert.equal(
    docs.map((d) => d.index),
    [1, 2],
  );
  try {
    parseManifest('kind: Realm\nmetadata: {name: a}\n---\nkind: [unclosed\n');
    assert.unreachable();
  } catch (err) {
    assert.is((err as KukeonError).code, 'KUKEON_E_YAML');
    assert.is((err as KukeonError).details.document, 2);
    assert.match((err as KukeonError).describe(), /^document 2: input:5:1: Flow sequence/);
  }
  try {
    parseManifest('# nothing\n');
    assert.unreachable();
  } catch (err) {
    assert.is((err as KukeonError).code, 'KUKEON_E_NO_DOCUMENTS');
  }
});

test('standalone Container documents need their cell coordinates and an image', () => {
  refused(
    { kind: 'Container', metadata: { name: 'a' }, spec: { realmId: 'r', spaceId: 's', stackId: 't', image: 'x' } },
    'KUKEON_E_INVALID',
    'spec.cellId',
  );
  const v = validateDocument(
    { kind: 'Container', metadata: { name: 'a' }, spec: { realmId: 'r', spaceId: 's', stackId: 't', cellId: 'c', image: 'x' } },
    1,
  );
  assert.equal(v.ref, { kind: 'Container', path: ['r', 's', 't', 'c', 'a'] });
});

function yamlRefusal(text: string): KukeonError {
  try {
    parseManifest(text, 'm.yaml');
  } catch (err) {
    return err as KukeonError;
  }
  throw new assert.Assertion({
    message: 'expected KUKEON_E_YAML',
    operator: 'throws',
    expects: 'KUKEON_E_YAML',
    actual: 'parsed',
    generated: true,
  });
}

test('hostile YAML: bombs, depth, sizes and duplicate keys are KUKEON_E_YAML with document and line:column, no engine text', () => {
  const realm = 'kind: Realm\nmetadata: {name: a}\n---\n';
  let bomb = 'kind: Realm\nmetadata:\n  name: b\n  labels:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 8; i++)
    bomb += `    a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  const cases: [string, RegExp][] = [
    [realm + bomb, /^document 2: m\.yaml:9:14: aliases expand/],
    [
      `${realm}kind: Realm\nmetadata: {name: b, labels: ${'['.repeat(5000)}${']'.repeat(5000)}}\n`,
      /^document 2: m\.yaml:5:\d+: .*nested deeper than 64/,
    ],
    [
      `${realm}kind: Realm\nmetadata:\n  name: b\n  labels:\n    a:\n      ${'- '.repeat(500)}x\n`,
      /^document 2: m\.yaml:9:\d+: .*nested deeper/,
    ],
    [
      `${realm}kind: Realm\nmetadata: {name: b, labels: {a: ${'x'.repeat(1.6 * 1024 * 1024)}}}\n`,
      /^document 2: m\.yaml:3:1: .*larger than 1\.5 MiB/,
    ],
    [
      `${realm}kind: Realm\nmetadata: {name: b, labels: [${'1,'.repeat(60_000)}1]}\n`,
      /^document 2: m\.yaml:3:1: .*more than 100,000 YAML tokens/,
    ],
    [`${realm}kind: Realm\nmetadata: {name: b}\nkind: Space\n`, /^document 2: m\.yaml:6:1: the key "kind" appears twice/],
    [`kind: Realm\nmetadata: {name: "${'x'.repeat(17 * 1024 * 1024)}"}\n`, /^m\.yaml: the input is 17 MiB, more than the 16 MiB/],
    [
      `${realm}kind: Realm\nmetadata: {name: b, labels: [${`"${'q'.repeat(40)}",`.repeat(30_000)}]}\n`,
      /^document 2: m\.yaml:5:\d+: double-quoted strings total more than 1 MiB/,
    ],
  ];
  for (const [text, expected] of cases) {
    const e = yamlRefusal(text);
    assert.is(e.code, 'KUKEON_E_YAML', e.message);
    assert.match(e.describe(), expected, e.describe());
    assert.not.match(e.describe(), /Maximum call stack|ReferenceError|RangeError|\n/);
  }
  // 30,000 distinct keys: yaml's own duplicate check compared every pair (14 s); the set per map is linear
  const started = Date.now();
  const keys = Array.from({ length: 30_000 }, (_, i) => `  k${i}: v`).join('\n');
  assert.is(yamlRefusal(`kind: Realm\nmetadata: {name: b}\nspec:\n${keys}\n  k7: w\n`).code, 'KUKEON_E_YAML');
  assert.ok(Date.now() - started < 6000, `${Date.now() - started} ms for 30,000 keys`);
});

test('an error is one line whatever the input held: names with line breaks or terminal escapes are shown escaped', () => {
  const e = refused({ kind: 'Realm', metadata: { name: `web\n\u001b[31m${'x'.repeat(200)}` } }, 'KUKEON_E_INVALID_NAME', 'metadata.name');
  assert.not.match(e.describe(), /[\n\u001b]/);
  assert.match(e.describe(), /^document 3 \(Realm "web\\n\\u001b\[31mx+\.\.\."\) field metadata\.name: /);
});

test('labels as Kubernetes: [prefix/]name with name <= 63 and a DNS-subdomain prefix <= 253, values <= 63', () => {
  const realm = (labels: Record<string, unknown>) => ({ kind: 'Realm', metadata: { name: 'r', labels } });
  validateDocument(
    realm({ tier: 'front', 'example.com/app_name.v2': 'A-b_c.9', [`${'a'.repeat(253)}/${'b'.repeat(63)}`]: '', e: 'x'.repeat(63) }),
    1,
  );
  refused(realm({ a: 'x'.repeat(64) }), 'KUKEON_E_INVALID', 'metadata.labels.a');
  refused(realm({ a: 'x'.repeat(10_000_000) }), 'KUKEON_E_INVALID', 'metadata.labels.a');
  refused(realm({ a: '-x' }), 'KUKEON_E_INVALID', 'metadata.labels.a');
  refused(realm({ a: 3 }), 'KUKEON_E_INVALID', 'metadata.labels.a');
  for (const key of ['b'.repeat(64), `${'a'.repeat(254)}/b`, 'Example.com/a', '/a', 'a/', '-a', 'a b', 'ａpp'])
    refused(realm({ [key]: 'v' }), 'KUKEON_E_INVALID', 'metadata.labels');
});

test.run();
