import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { fastParse, fastStringify } from '../plugins/store-yaml/fast-yaml';

// A small deterministic PRNG, so a failure replays.
let seed = 12345;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

const ALPHABET = 'aZ09_./=@+-:# "\'\\,[]{}*&!%?|>~\t';
const WORDS = [
  '',
  '0',
  '-0',
  '00',
  '09',
  '1.',
  '.5',
  '1e5',
  '-1.5e3',
  '0x1F',
  '0o7',
  '.inf',
  '-.Inf',
  '.nan',
  'NaN',
  'true',
  'True',
  'FALSE',
  'null',
  'Null',
  '~',
  'yes',
  'no',
  'on',
  '-',
  'a-',
  '-a',
  '/p',
  '@x',
  'a:',
  'a:b',
  'a: b',
  'http://x',
  'x#y',
  'x #y',
  '1_0',
  '0b1',
  '2024-01-01T00:00:00.000Z',
  'docker.io/library/busybox:latest',
  'A=1',
  '300',
  '12:30',
  'a'.repeat(64),
  'a'.repeat(65),
  '__proto__',
  'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
];

function randomString(): string {
  if (rnd() < 0.6) return pick(WORDS);
  let s = '';
  const n = Math.floor(rnd() * 12);
  for (let i = 0; i < n; i++) s += pick([...ALPHABET]);
  return s;
}

function randomValue(depth: number): unknown {
  const r = rnd();
  if (depth > 3 || r < 0.45) return randomString();
  if (r < 0.55) return pick([0, 1, -3, 42, 1.5, -0, 2 ** 60, true, false, null, undefined]);
  if (r < 0.8) {
    const o: Record<string, unknown> = {};
    const n = Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++)
      o[rnd() < 0.8 ? pick(['name', 'kind', 'a', 'b-c', 'x.y', 'app/tier', 'k8s.io/x']) : randomString()] = randomValue(depth + 1);
    return o;
  }
  return Array.from({ length: Math.floor(rnd() * 3) }, () => randomValue(depth + 1));
}

const storeDoc = {
  apiVersion: 'v1beta1',
  kind: 'Container',
  metadata: { name: 'w', labels: { tier: 'front', 'app.kubernetes.io/name': 'x' } },
  spec: {
    id: 'w',
    image: 'docker.io/library/busybox:latest',
    command: 'sleep',
    args: ['300', '-c', 'while true; do date; sleep 5; done'],
    env: ['A=1'],
    ports: [{ containerPort: 8080, protocol: 'tcp' }],
    resources: { memory: { max: '64Mi' }, pids: { max: 64 } },
    realmId: 'r0',
    spaceId: 's0',
    stackId: 't0',
    cellId: 'c0',
  },
  status: { state: 'Pending', createdAt: '2024-01-01T00:00:00.000Z', reason: undefined, containers: {}, list: [] },
};

test('fastStringify is YAML.stringify whenever it answers; fastParse reads it back as YAML.parse does', () => {
  let fast = 0;
  for (let i = 0; i < 6000; i++) {
    const doc = i === 0 ? storeDoc : { top: randomValue(0), other: randomValue(0) };
    const expected = YAML.stringify(doc);
    const got = fastStringify(doc);
    if (got !== undefined) {
      fast++;
      assert.is(got, expected, JSON.stringify(doc));
    }
    const parsed = fastParse(expected);
    if (parsed !== undefined) assert.equal(parsed, YAML.parse(expected), expected);
  }
  assert.ok(fast > 600, `the fast path answered ${fast} times`);
});

test('a store document takes the fast path both ways', () => {
  const doc = { ...storeDoc, spec: { ...storeDoc.spec, args: ['300'] } };
  const text = fastStringify(doc);
  assert.ok(text);
  assert.equal(fastParse(text!), YAML.parse(text!));
});

test('fastParse gives up on what it does not know, and agrees with YAML.parse when it answers', () => {
  const texts = [
    'a: 1\n',
    'a: 1',
    'a: 1\r\n',
    'a: 1 # c\n',
    '# c\na: 1\n',
    '---\na: 1\n',
    'a:\n- x\n',
    'a:\n    b: 1\n',
    'a:\n  b: 1\n c: 2\n',
    'a: 1\n\nb: 2\n',
    'a: 1\na: 2\n',
    'a: &x 1\nb: *x\n',
    "a: 'q'\n",
    'a: "x\\ty"\n',
    'a: {b: 1}\n',
    'a: [1, 2]\n',
    'a: 007\n',
    'a: -0\n',
    'a: 1.5\n',
    'a: 99999999999999999999\n',
    'a:\n',
    'a: b\n  c: d\n',
    '__proto__: 1\n',
    'a: |\n  x\n',
    'a:\n  - b: 1\n    c: 2\n  - d\n  - - e\n',
    'a:\n  - b: 1\n      c: 2\n',
    '- a\n',
    'a: b: c\n',
    'a:b: c\n',
    'key with space: 1\n',
    'a: yes\nb: "300"\nc: ""\nd: {}\ne: []\nf: null\ng: true\nh: -3\n',
  ];
  for (const t of texts) {
    const fast = fastParse(t);
    if (fast === undefined) continue;
    assert.equal(fast, YAML.parse(t), t);
  }
  assert.equal(fastParse('a: yes\nb: "300"\nc: ""\nd: {}\ne: []\nf: null\ng: true\nh: -3\n'), {
    a: 'yes',
    b: '300',
    c: '',
    d: {},
    e: [],
    f: null,
    g: true,
    h: -3,
  });
  assert.is(fastParse('a: 1 # c\n'), undefined);
  assert.is(fastParse('a: 1\na: 2\n'), undefined);
});

test.run();
