// biome-ignore-all lint/suspicious/noExplicitAny: documents are edited field by field as plain JSON
// The hostile-input corpus: bad manifests made from valid ones (examples/quickstart.yaml and
// test/reliability/valid-full.yaml) with a fixed-seed PRNG, the hand-written cases of test/reliability/hostile/,
// and the large cases made at run time (not committed). Every case says what stderr must name: the document and
// the field, or the reason for the whole file.

import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { UNSUPPORTED_FIELDS } from '../../src/host/validation/unsupported-fields';
import { SeededRandom } from './seeded-random';

export interface HostileCase {
  name: string;
  /** The file's bytes (a function for the large ones, made when the case runs). */
  content: string | Buffer | (() => Buffer);
  /** Each must match stderr. */
  expect: RegExp[];
  /** Peak RSS of the kuke process is measured and bounded. */
  measureRss?: boolean;
}

/** The repository root (this file runs from dist/test/reliability). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const HOSTILE_DIR = path.join(REPO_ROOT, 'test', 'reliability', 'hostile');

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const documentIs = (n: number) => new RegExp(`\\bdocument ${n}\\b`);
const fieldIs = (field: string) => new RegExp(`field ${escapeRegExp(field)}(:| )`);
const code = (c: string) => new RegExp(`\\[${c}\\]`);

/** The valid documents every generated case starts from, with `image` as every container's image. */
export function validDocuments(image: string): any[] {
  const out: any[] = [];
  for (const file of ['examples/quickstart.yaml', 'test/reliability/valid-full.yaml']) {
    for (const d of YAML.parseAllDocuments(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'))) {
      const doc = d.toJS();
      if (doc) out.push(doc);
    }
  }
  const text = JSON.stringify(out).replaceAll('docker.io/library/busybox:latest', image);
  return JSON.parse(text);
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** `spec.containers[0].ports[0].hostPort` -> ['spec', 'containers', 0, 'ports', 0, 'hostPort']. */
function keys(field: string): (string | number)[] {
  return field
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

function getAt(doc: any, field: string): any {
  return keys(field).reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), doc);
}

/** Sets a value, making the maps on the way. */
function setAt(doc: any, field: string, value: unknown): void {
  const ks = keys(field);
  let o = doc;
  for (const k of ks.slice(0, -1)) {
    if (o[k] === undefined || o[k] === null || typeof o[k] !== 'object') o[k] = {};
    o = o[k];
  }
  o[ks[ks.length - 1]] = value;
}

function deleteAt(doc: any, field: string): void {
  const ks = keys(field);
  const parent = ks.slice(0, -1).reduce((o: any, k) => (o === undefined || o === null ? undefined : o[k]), doc);
  if (!parent || typeof parent !== 'object' || !(ks[ks.length - 1] in parent)) throw new Error(`hostile corpus: no ${field} to delete`);
  if (Array.isArray(parent)) parent.splice(ks[ks.length - 1] as number, 1);
  else delete parent[ks[ks.length - 1]];
}

/** Every field path of a document (maps and lists walked), as the errors name them. */
function fieldsOf(value: any, prefix = ''): { field: string; value: any }[] {
  const out: { field: string; value: any }[] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      const f = `${prefix}[${i}]`;
      out.push({ field: f, value: v }, ...fieldsOf(v, f));
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const f = prefix ? `${prefix}.${k}` : k;
      out.push({ field: f, value: v }, ...fieldsOf(v, f));
    }
  }
  return out;
}

const yamlOf = (docs: unknown[]) => docs.map((d) => YAML.stringify(d, { lineWidth: 0 })).join('---\n');

interface BadDoc {
  what: string;
  doc: unknown;
  /** Beyond `document N`: what stderr must show. */
  expect: RegExp[];
  /** Text edits after rendering (duplicate keys, syntax errors). */
  text?: (yaml: string) => string;
}

/** A wrong type for a field holding `value`: a list for a string, a string for a number, a map, a boolean... */
function wrongTypeFor(value: unknown, rnd: () => number): unknown {
  if (typeof value === 'string') return rnd() < 0.5 ? [1, 2] : { nested: 'map' };
  if (typeof value === 'number') return rnd() < 0.5 ? 'not-a-number' : [value];
  if (typeof value === 'boolean') return rnd() < 0.5 ? 'yes' : 1;
  if (Array.isArray(value)) return rnd() < 0.5 ? 'not-a-list' : { a: 1 };
  return rnd() < 0.5 ? 'not-a-map' : [1];
}

/** Fields whose wrong value is refused under another field name or code (checked by their own cases). */
const SPECIAL = /^(apiVersion|kind|status)$|^metadata\.name$|^metadata\.labels\./;

function wrongType(docs: any[], rnd: () => number): BadDoc {
  const doc = clone(docs[Math.floor(rnd() * docs.length)]);
  const fields = fieldsOf(doc).filter((f) => !SPECIAL.test(f.field));
  const f = fields[Math.floor(rnd() * fields.length)];
  setAt(doc, f.field, wrongTypeFor(f.value, rnd));
  return { what: `wrong type at ${doc.kind} ${f.field}`, doc, expect: [fieldIs(f.field), code('KUKEON_E_INVALID')] };
}

function unknownField(docs: any[], rnd: () => number): BadDoc {
  const doc = clone(docs[Math.floor(rnd() * docs.length)]);
  const maps = [{ field: '', value: doc }, ...fieldsOf(doc)].filter(
    (f) => f.value && typeof f.value === 'object' && !Array.isArray(f.value) && !/labels$|^status/.test(f.field),
  );
  const at = maps[Math.floor(rnd() * maps.length)].field;
  const name = ['bogus', 'imagePullPolicy', 'replicas', 'Image', 'nodeSelector'][Math.floor(rnd() * 5)];
  const field = at ? `${at}.${name}` : name;
  setAt(doc, field, rnd() < 0.5 ? 1 : 'x');
  return { what: `unknown field ${doc.kind} ${field}`, doc, expect: [fieldIs(field), /unknown field/] };
}

/** Required fields per kind, as the schema lists them. */
const REQUIRED: Record<string, string[]> = {
  Realm: ['kind', 'metadata', 'metadata.name'],
  Space: ['kind', 'metadata', 'metadata.name', 'spec', 'spec.realmId'],
  Stack: ['metadata.name', 'spec', 'spec.realmId', 'spec.spaceId'],
  Cell: [
    'metadata.name',
    'spec',
    'spec.realmId',
    'spec.spaceId',
    'spec.stackId',
    'spec.containers',
    'spec.containers[0].id',
    'spec.containers[0].image',
  ],
  Container: ['metadata.name', 'spec.realmId', 'spec.cellId', 'spec.image'],
};

function missingRequired(docs: any[], rnd: () => number): BadDoc {
  const doc = clone(docs[Math.floor(rnd() * docs.length)]);
  const list = REQUIRED[doc.kind];
  const field = list[Math.floor(rnd() * list.length)];
  deleteAt(doc, field);
  if (field === 'kind')
    return { what: `missing kind of ${doc.metadata.name}`, doc, expect: [fieldIs('kind'), code('KUKEON_E_UNKNOWN_KIND')] };
  const expect = field === 'metadata.name' ? [fieldIs(field), /a name is required/] : [fieldIs(field), /is required/];
  return { what: `missing ${doc.kind} ${field}`, doc, expect };
}

/** [kinds, field, bad value, what the error says]. */
const OUT_OF_RANGE: [string[], string, unknown, RegExp][] = [
  [['Realm', 'Space', 'Stack', 'Cell'], 'spec.resources.cpu.weight', 0, /must be >= 1/],
  [['Realm', 'Space', 'Stack', 'Cell'], 'spec.resources.cpu.weight', 10001, /must be <= 10000/],
  [['Realm', 'Space', 'Stack', 'Cell'], 'spec.resources.io.weight', 0, /must be >= 1/],
  [['Realm', 'Space', 'Stack', 'Cell'], 'spec.resources.io.weight', 1e6, /must be <= 10000/],
  [['Realm', 'Space', 'Stack', 'Cell'], 'spec.resources.pids.max', 0, /must be >= 1/],
  [['Realm', 'Space', 'Stack', 'Cell'], 'spec.resources.pids.max', -5, /must be >= 1/],
  [['Realm', 'Space', 'Stack', 'Cell'], 'spec.resources.pids.max', 1.5, /must be integer/],
  [['Realm', 'Space', 'Stack', 'Cell'], 'spec.resources.memory.max', -1, /must/],
  [['Cell'], 'spec.containers[0].ports[0].containerPort', 0, /must be >= 1/],
  [['Cell'], 'spec.containers[0].ports[0].containerPort', 65536, /must be <= 65535/],
  [['Cell'], 'spec.containers[0].ports[0].hostPort', 70000, /must be <= 65535/],
  [['Cell'], 'spec.containers[0].ports[0].protocol', 'sctp', /must be equal to one of/],
  [['Cell'], 'spec.containers[0].cpuShares', 1, /must be >= 2/],
  [['Cell'], 'spec.containers[0].cpuShares', 262145, /must be <= 262144/],
  [['Cell'], 'spec.containers[0].pidsLimit', 0, /must be >= 1/],
  [['Cell'], 'spec.containers[0].memoryLimitBytes', -1, /must be >= 0/],
  [['Cell'], 'spec.containers[0].restartBackoffSeconds', -1, /must be >= 0/],
  [['Cell'], 'spec.containers[0].restartBackoffSeconds', 3601, /must be <= 3600/],
  [['Cell'], 'spec.containers[0].restartMaxRetries', 0, /must be >= 1/],
  [['Cell'], 'spec.containers[0].restartPolicy', 'sometimes', /must be equal to one of/],
  [['Cell'], 'spec.containers[0].resources.cpu.weight', 0, /must be >= 1/],
  [['Container'], 'spec.resources.pids.max', 0, /must be >= 1/],
];

/** Malformed quantities: memory sizes and cpu.max strings. */
const BAD_SIZES = ['64MB', '1.5Gi', '-1Mi', 'Mi', '64 Mi', '0x40', '1e9', '64mi', '', '9999999999999999999999Gi'];
const BAD_CPU_MAX = ['half', '100000 100000 1', '500 100000', '1000 10', '-1 100000', 'max max', '1000 9999999'];

function quantity(docs: any[], rnd: () => number): BadDoc {
  const doc = clone(docs.filter((d) => d.kind !== 'Container')[Math.floor(rnd() * (docs.length - 1))] ?? docs[0]);
  const base = doc.kind === 'Cell' && rnd() < 0.5 ? 'spec.containers[0].resources' : 'spec.resources';
  if (rnd() < 0.6) {
    const key = rnd() < 0.5 ? 'max' : 'high';
    const value = BAD_SIZES[Math.floor(rnd() * BAD_SIZES.length)];
    const field = `${base}.memory.${key}`;
    setAt(doc, field, value);
    // a size too large for a number is refused after the schema, by the size parser
    return { what: `malformed size ${JSON.stringify(value)} at ${doc.kind} ${field}`, doc, expect: [fieldIs(field)] };
  }
  const value = BAD_CPU_MAX[Math.floor(rnd() * BAD_CPU_MAX.length)];
  const field = `${base}.cpu.max`;
  setAt(doc, field, value);
  return { what: `malformed cpu.max ${JSON.stringify(value)} at ${doc.kind} ${field}`, doc, expect: [fieldIs(field)] };
}

/** Bad names: path tricks, NUL, look-alikes, length, case, characters. */
export const BAD_NAMES: [string, RegExp][] = [
  ['..', /\.\./],
  ['../etc', /./],
  ['a/b', /./],
  ['/', /./],
  ['a\0b', /./],
  ['wеb', /./], // Cyrillic е
  ['ｗｅｂ', /./], // full-width
  ['web\u200b', /./], // zero-width space
  ['a'.repeat(64), /./],
  ['b'.repeat(300), /./],
  ['Web', /./],
  ['WEB', /./],
  ['-web', /./],
  ['web-', /./],
  ['web_1', /./],
  ['web.1', /./],
  ['.', /./],
  [' web', /./],
  ['', /./],
  ['we b', /./],
  ['web\n', /./],
  ['*', /./],
];

/** Where a name sits in each kind. */
const NAME_FIELDS: Record<string, string[]> = {
  Realm: ['metadata.name'],
  Space: ['metadata.name', 'spec.realmId'],
  Stack: ['metadata.name', 'spec.realmId', 'spec.spaceId'],
  Cell: ['metadata.name', 'spec.realmId', 'spec.spaceId', 'spec.stackId', 'spec.containers[0].id', 'spec.rootContainerId'],
  Container: ['metadata.name', 'spec.cellId'],
};

function badName(docs: any[], rnd: () => number, name: string): BadDoc {
  const doc = clone(docs[Math.floor(rnd() * docs.length)]);
  const fields = NAME_FIELDS[doc.kind].filter((f) => getAt(doc, f) !== undefined);
  const field = fields[Math.floor(rnd() * fields.length)];
  setAt(doc, field, name);
  if (field === 'spec.containers[0].id' && doc.spec.rootContainerId === doc.spec.containers[0].root && doc.spec.rootContainerId)
    doc.spec.rootContainerId = undefined;
  // A Stack's or Cell's spec.id must equal its name: renaming the name alone would be caught there instead.
  if (field === 'metadata.name' && doc.spec?.id !== undefined) doc.spec.id = name;
  return { what: `bad name ${JSON.stringify(name)} at ${doc.kind} ${field}`, doc: stripUndefined(doc), expect: [fieldIs(field)] };
}

const stripUndefined = (v: unknown) => JSON.parse(JSON.stringify(v));

/** Each field kukeon refuses as not supported yet, on every kind it can appear on. */
function unsupportedCases(docs: any[]): BadDoc[] {
  const out: BadDoc[] = [];
  const byKind = (k: string) => clone(docs.find((d) => d.kind === k));
  const value = (f: string) => (/^(tty|privileged|hostPID|hostCgroup|readOnlyRootFilesystem|autoDelete|attachable)$/.test(f) ? true : [{}]);
  const add = (doc: any, field: string) => {
    setAt(doc, field, value(field.split('.').pop()!));
    out.push({
      what: `unsupported ${doc.kind} ${field}`,
      doc,
      expect: [fieldIs(field), code('KUKEON_E_UNSUPPORTED_FIELD')],
    });
  };
  for (const f of UNSUPPORTED_FIELDS.metadata) add(byKind('Cell'), `metadata.${f}`);
  for (const kind of ['Realm', 'Space', 'Stack', 'Cell'])
    for (const f of UNSUPPORTED_FIELDS[`${kind}.spec`] ?? []) add(byKind(kind), `spec.${f}`);
  for (const f of UNSUPPORTED_FIELDS.container) {
    add(byKind('Cell'), `spec.containers[0].${f}`);
    add(byKind('Container'), `spec.${f}`);
  }
  // upstream's kuketty settings inside a container's tty
  for (const f of UNSUPPORTED_FIELDS['container.tty']) {
    add(byKind('Cell'), `spec.containers[0].tty.${f}`);
    add(byKind('Container'), `spec.tty.${f}`);
  }
  return out;
}

/** Cases that are not one field of one document: kinds, versions, cross-field rules, YAML text, whole documents. */
function ruleCases(docs: any[]): BadDoc[] {
  const get = (k: string, name?: string) => clone(docs.find((d) => d.kind === k && (!name || d.metadata.name === name)));
  const full = () => get('Cell', 'full');
  const out: BadDoc[] = [];
  const push = (what: string, doc: any, expect: RegExp[], text?: (y: string) => string) => out.push({ what, doc, expect, text });
  for (const kind of ['Pod', 'cell', 'Cells', '', 'Deployment'])
    push(`unknown kind ${JSON.stringify(kind)}`, { ...get('Realm'), kind }, [fieldIs('kind'), code('KUKEON_E_UNKNOWN_KIND')]);
  for (const v of ['v1', 'v1beta2', 'kukeon.io/v1beta1', 'v1alpha1'])
    push(`apiVersion ${v}`, { ...get('Space'), apiVersion: v }, [fieldIs('apiVersion'), code('KUKEON_E_API_VERSION')]);
  push('apiVersion a number', { ...get('Stack'), apiVersion: 1 }, [fieldIs('apiVersion'), code('KUKEON_E_API_VERSION')]);
  push('realm named run', { ...get('Realm'), metadata: { name: 'run' } }, [fieldIs('metadata.name'), code('KUKEON_E_RESERVED_NAME')]);
  push('realm kukeon-system', { kind: 'Realm', metadata: { name: 'kukeon-system' } }, [fieldIs('metadata.name'), code('KUKEON_E_SYSTEM')]);
  const sys = get('Cell', 'frontend');
  sys.spec.realmId = 'kukeon-system';
  push('a cell in the system realm', sys, [fieldIs('spec.realmId'), code('KUKEON_E_SYSTEM')]);
  const ns = get('Realm');
  ns.spec = { namespace: 'kukeon-kukeon-system' };
  push("the system realm's containerd namespace", ns, [fieldIs('spec.namespace'), code('KUKEON_E_SYSTEM')]);
  const rootId = get('Cell', 'worker');
  rootId.spec.containers.push({ ...rootId.spec.containers[0], id: 'root' });
  push('container id root on a workload', rootId, [fieldIs('spec.containers[1].id'), /reserved/]);
  const twoRoots = full();
  twoRoots.spec.containers[1].root = true;
  delete twoRoots.spec.rootContainerId;
  push('two root containers', twoRoots, [fieldIs('spec.containers'), /more than one root/]);
  const rootRef = full();
  rootRef.spec.rootContainerId = 'ghost';
  push('rootContainerId names no container', rootRef, [fieldIs('spec.rootContainerId'), /not a container/]);
  const dupId = full();
  dupId.spec.containers[1].id = 'main';
  push('two containers with one id', dupId, [fieldIs('spec.containers[1].id'), /used by another/]);
  const mixed = full();
  mixed.spec.containers[1].hostNetwork = true;
  push('hostNetwork on one container only', mixed, [fieldIs('spec.containers[1].hostNetwork'), /mixes host/]);
  const dupPort = full();
  dupPort.spec.containers[1].ports = [{ containerPort: 9, hostPort: 18080, hostIP: '127.0.0.1' }];
  push('a host port published twice', dupPort, [fieldIs('spec.containers[1].ports[0].hostPort'), /already published/]);
  const badIp = full();
  badIp.spec.containers[0].ports[0].hostIP = '999.1.1.1';
  push('hostIP not an address', badIp, [fieldIs('spec.containers[0].ports[0].hostIP')]);
  const noContainers = full();
  noContainers.spec.containers = [];
  delete noContainers.spec.rootContainerId;
  push('no containers', noContainers, [fieldIs('spec.containers')]);
  const parent = full();
  parent.spec.containers[0].realmId = 'other';
  push("a container's realmId differs from its cell's", parent, [fieldIs('spec.containers[0].realmId')]);
  const idMismatch = get('Stack');
  idMismatch.spec.id = 'other';
  push('spec.id differs from metadata.name', idMismatch, [fieldIs('spec.id'), /must equal/]);
  const env = full();
  env.spec.containers[0].env = ['NOEQUALS'];
  push('env without =', env, [fieldIs('spec.containers[0].env[0]')]);
  const wd = full();
  wd.spec.containers[0].workingDir = 'relative/dir';
  push('relative workingDir', wd, [fieldIs('spec.containers[0].workingDir')]);
  const emptyCommand = full();
  emptyCommand.spec.containers[0].command = '';
  push('empty command', emptyCommand, [fieldIs('spec.containers[0].command')]);
  const conflict = full();
  conflict.spec.containers[1].resources = { memory: { max: '1Gi' } };
  push('memoryLimitBytes conflicts with resources.memory.max', conflict, [fieldIs('spec.containers[1].resources.memory.max'), /conflicts/]);
  for (const subnet of ['300.0.0.0/24', '10.0.0.0/31', '10.0.0.0/7', '10.0.0/24', 'fd00::/64', '10.1.2.3'])
    push(`subnet ${subnet}`, { ...get('Space'), spec: { realmId: 'demo', network: { subnet } } }, [fieldIs('spec.network.subnet')]);
  for (const p of ['relative.conflist', '/etc/cni/../../x.conflist', '/etc/cni/net.d/'])
    push(`cniConfigPath ${p}`, { ...get('Space'), spec: { realmId: 'demo', cniConfigPath: p } }, [fieldIs('spec.cniConfigPath')]);
  push('allowFrom twice the same space', { ...get('Space'), spec: { realmId: 'demo', network: { allowFrom: ['a', 'a'] } } }, [
    fieldIs('spec.network.allowFrom'),
  ]);
  push('allowFrom a bad name', { ...get('Space'), spec: { realmId: 'demo', network: { allowFrom: ['Web/../x'] } } }, [
    fieldIs('spec.network.allowFrom[0]'),
  ]);
  push('realm namespace with a slash', { ...get('Realm'), spec: { namespace: 'a/b' } }, [fieldIs('spec.namespace')]);
  push('credentials without a password', { ...get('Realm'), spec: { registryCredentials: [{ username: 'u', serverAddress: 'r' }] } }, [
    fieldIs('spec.registryCredentials[0].password'),
  ]);
  for (const [key, value, field] of [
    ['tier', 'x'.repeat(64), 'metadata.labels.tier'],
    ['tier', 'y'.repeat(100_000), 'metadata.labels.tier'],
    ['tier', 'has space', 'metadata.labels.tier'],
    ['tier', '-lead', 'metadata.labels.tier'],
    ['k'.repeat(64), 'v', 'metadata.labels'],
    [`${'p'.repeat(254)}/k`, 'v', 'metadata.labels'],
    ['Bad.Prefix.com/k', 'v', 'metadata.labels'],
    ['a/b/c', 'v', 'metadata.labels'],
    ['ｔｉｅｒ', 'v', 'metadata.labels'],
  ] as const) {
    const doc = get('Cell', 'worker');
    doc.metadata.labels = { [key]: value };
    push(`label ${key.slice(0, 20)}=${value.slice(0, 20)}`, doc, [fieldIs(field), code('KUKEON_E_INVALID')]);
  }
  push('a document that is a string', 'just a string', [/a document must be a map/]);
  push('a document that is a list', [1, 2, 3], [/a document must be a map/]);
  push('a document that is a number', 42, [/a document must be a map/]);
  // YAML text: duplicate keys, syntax errors
  const dupKey = (what: string, edit: (y: string) => string) => push(what, get('Space'), [code('KUKEON_E_YAML'), /appears twice/], edit);
  dupKey('duplicate kind', (y) => `${y}kind: Space\n`);
  dupKey('duplicate metadata.name', (y) => y.replace(/^metadata:\n/m, 'metadata:\n  name: other\n'));
  dupKey('duplicate spec', (y) => `${y}spec: {}\n`);
  const syntax = (what: string, edit: (y: string) => string) => push(what, get('Stack'), [code('KUKEON_E_YAML'), /:\d+:\d+: /], edit);
  syntax('unclosed flow map', (y) => `${y}extra: { a: 1\n`);
  syntax('unclosed flow list', (y) => `${y}extra: [1, 2\n`);
  syntax('unterminated quote', (y) => `${y}extra: "open\n`);
  syntax('tab indentation', (y) => y.replace(/^ {2}/m, '\t'));
  syntax('bad indentation', (y) => y.replace(/^spec:\n {2}/m, 'spec:\n     ').replace(/\n {2}(\w)/, '\n $1'));
  syntax('an undefined alias', (y) => `${y}extra: *nowhere\n`);
  syntax('a key without a value separator', (y) => `${y}just some words\nmore: 1\n`);
  return out;
}

function rendered(bad: BadDoc): string {
  const y = YAML.stringify(bad.doc, { lineWidth: 0 });
  return bad.text ? bad.text(y) : y;
}

/**
 * The generated cases: every unsupported field and rule case, then `random` cases (wrong types, unknown fields,
 * missing fields, out-of-range numbers, malformed quantities, bad names), each placed in a multi-document input
 * of 0 to 3 valid documents, mostly last, with the expected `document N`.
 */
export function generatedCases(seed: number, random: number, image: string): HostileCase[] {
  const seeded = new SeededRandom(seed);
  const rnd = () => seeded.next();
  const docs = validDocuments(image);
  const fixed: BadDoc[] = [...unsupportedCases(docs), ...ruleCases(docs)];
  for (const [kinds, field, value, says] of OUT_OF_RANGE) {
    const doc = clone(docs.find((d) => kinds.includes(d.kind) && (d.kind !== 'Cell' || d.metadata.name === 'full')));
    setAt(doc, field, value);
    fixed.push({ what: `out of range ${doc.kind} ${field}=${JSON.stringify(value)}`, doc, expect: [fieldIs(field), says] });
  }
  for (const [name] of BAD_NAMES) fixed.push(badName(docs, rnd, name));
  const makers = [
    wrongType,
    unknownField,
    missingRequired,
    quantity,
    (d: any[], r: () => number) => badName(d, r, BAD_NAMES[Math.floor(r() * BAD_NAMES.length)][0]),
  ];
  const bad = [...fixed];
  for (let i = 0; i < random; i++) bad.push(makers[Math.floor(rnd() * makers.length)](docs, rnd));

  return bad.map((b, i) => {
    // valid neighbours, never of the same kind and name (that would be a duplicate document instead)
    const same = (d: any) =>
      b.doc && typeof b.doc === 'object' && d.kind === (b.doc as any).kind && d.metadata.name === (b.doc as any).metadata?.name;
    const pool = docs.filter((d) => !same(d));
    const before: unknown[] = [];
    const after: unknown[] = [];
    const n = Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) {
      const d = pool.splice(Math.floor(rnd() * pool.length), 1)[0];
      if (d) (rnd() < 0.8 ? before : after).push(d);
    }
    const text = [yamlOf(before), rendered(b), yamlOf(after)].filter(Boolean).join('---\n');
    const n1 = before.length + 1;
    return {
      name: `gen-${String(i + 1).padStart(4, '0')} ${b.what}`,
      content: text,
      expect: [documentIs(n1), ...b.expect],
    };
  });
}

/** `# expect: REGEX` lines of a hand-written case, or its entry in expectations.json. */
export function handWrittenCases(): HostileCase[] {
  const table = JSON.parse(fs.readFileSync(path.join(HOSTILE_DIR, 'expectations.json'), 'utf8')) as Record<string, string[]>;
  const out: HostileCase[] = [];
  for (const file of fs.readdirSync(HOSTILE_DIR).sort()) {
    if (file === 'expectations.json' || file === 'README.md') continue;
    const content = fs.readFileSync(path.join(HOSTILE_DIR, file));
    const marked = [...content.toString('latin1').matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]);
    const expect = [...marked, ...(table[file] ?? [])].map((s) => new RegExp(s));
    if (expect.length === 0) throw new Error(`hostile/${file}: no "# expect:" line and no entry in expectations.json`);
    out.push({ name: `hand ${file}`, content, expect, measureRss: /bomb|deep/.test(file) });
  }
  return out;
}

/** The large cases, made when they run: never committed. */
export function runtimeCases(): HostileCase[] {
  const MiB = 1024 * 1024;
  const doc = (labelValue: string) => `apiVersion: v1beta1\nkind: Realm\nmetadata: { name: huge, labels: { a: "${labelValue}" } }\n`;
  return [
    {
      name: 'runtime a 20 MB document',
      content: () => Buffer.from(doc('x'.repeat(20 * MiB))),
      expect: [code('KUKEON_E_YAML'), /more than the 16 MiB kukeon reads at once/],
      measureRss: true,
    },
    {
      name: 'runtime 17 MiB of small valid documents',
      content: () => {
        const one = 'apiVersion: v1beta1\nkind: Realm\nmetadata: { name: r }\n---\n';
        return Buffer.from(one.repeat(Math.ceil((17 * MiB) / one.length)));
      },
      expect: [code('KUKEON_E_YAML'), /16 MiB/],
      measureRss: true,
    },
    {
      name: 'runtime a 1.6 MiB document after a valid one',
      content: () => Buffer.from(`kind: Realm\nmetadata: { name: ok }\n---\n${doc('y'.repeat(1.6 * MiB)).replace(/"/g, '')}`),
      expect: [documentIs(2), code('KUKEON_E_YAML'), /larger than 1\.5 MiB/],
      measureRss: true,
    },
    {
      name: 'runtime ten documents with a plain label value of 1 MB',
      content: () =>
        Buffer.from(Array.from({ length: 10 }, (_, i) => doc('z'.repeat(MiB)).replace('huge', `huge${i}`).replace(/"/g, '')).join('---\n')),
      expect: [documentIs(1), fieldIs('metadata.labels.a'), /at most 63/],
      measureRss: true,
    },
    {
      name: 'runtime ten documents with a double-quoted label value of 0.9 MB',
      content: () =>
        Buffer.from(Array.from({ length: 10 }, (_, i) => doc('q'.repeat(0.9 * MiB)).replace('huge', `huge${i}`)).join('---\n')),
      expect: [documentIs(2), code('KUKEON_E_YAML'), /double-quoted strings total more than 1 MiB/],
      measureRss: true,
    },
    {
      name: 'runtime 40,000 short double-quoted strings',
      content: () =>
        Buffer.from(
          Array.from(
            { length: 4 },
            (_, i) =>
              `kind: Realm\nmetadata:\n  name: r${i}\n  labels: [${Array(10_000)
                .fill(`"${'q'.repeat(40)}"`)
                .join(',')}]\n`,
          ).join('---\n'),
        ),
      expect: [documentIs(3), code('KUKEON_E_YAML'), /double-quoted strings total more than 1 MiB/],
      measureRss: true,
    },
    {
      name: 'runtime a flat list of 200,000 items',
      content: () => Buffer.from(`kind: Realm\nmetadata: { name: r, labels: [${'1,'.repeat(200_000)}1] }\n`),
      expect: [documentIs(1), code('KUKEON_E_YAML'), /YAML tokens/],
      measureRss: true,
    },
    {
      name: 'runtime a map of 40,000 keys',
      content: () =>
        Buffer.from(
          `kind: Realm\nmetadata:\n  name: r\n  labels:\n${Array.from({ length: 40_000 }, (_, i) => `    k${i}: v`).join('\n')}\n`,
        ),
      expect: [documentIs(1), code('KUKEON_E_YAML'), /YAML tokens/],
      measureRss: true,
    },
    {
      name: 'runtime nesting 100,000 deep',
      content: () => Buffer.from(`kind: Realm\nmetadata: { name: r, labels: ${'['.repeat(100_000)}${']'.repeat(100_000)} }\n`),
      expect: [documentIs(1), code('KUKEON_E_YAML'), /nested deeper than 64/],
      measureRss: true,
    },
  ];
}
