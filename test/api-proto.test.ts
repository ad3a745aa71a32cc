// kukeon.v1's contract (plugins/api-socket/proto/kukeon/v1/kukeon.proto) against the code that speaks it: the
// method table of wire.ts (which the server and the client both build on) has exactly the proto's rpcs with the
// same streaming, and exactly the ControllerApi's verbs; the hand codec of wire.ts reads and writes what
// protobufjs does for the two one-field messages; docs/api.md is what scripts/gen-api-doc.js makes of the proto.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFrame, encodeFrame } from '../plugins/api-socket/frame';
import { decodeBytes, decodeJson, encodeBytes, encodeJson, METHODS, SERVICE } from '../plugins/api-socket/wire';
import type { MethodShape } from '../plugins/api-socket/wire';
import { CONTROLLER_VERBS } from '../sdk';

const REPO_ROOT = path.resolve(__dirname, '../..');
const PROTO_DIR = path.join(REPO_ROOT, 'plugins', 'api-socket', 'proto');
const PROTO_FILE = 'kukeon/v1/kukeon.proto';
const GENERATOR = path.join(REPO_ROOT, 'scripts', 'gen-api-doc.js');
const DOC = path.join(REPO_ROOT, 'docs', 'api.md');

const pkg = protoLoader.loadSync(PROTO_FILE, { includeDirs: [PROTO_DIR], keepCase: true });
const service = pkg[SERVICE] as protoLoader.ServiceDefinition;

/** protobufjs's own codec of a message (proto-loader is built on it). */
const root = protobuf.loadSync(path.join(PROTO_DIR, PROTO_FILE));
const pbType = (name: string) => root.lookupType(`kukeon.v1.${name}`);
/** Field `field` of a message protobufjs decoded. */
const fieldOf = (T: protobuf.Type, msg: Uint8Array, field: string) =>
  Buffer.from((T.decode(msg) as unknown as Record<string, Uint8Array>)[field] ?? []);

/** The streaming flags a wire.ts shape stands for. */
const STREAMING: Record<MethodShape, { requestStream: boolean; responseStream: boolean }> = {
  unary: { requestStream: false, responseStream: false },
  mutation: { requestStream: false, responseStream: true },
  items: { requestStream: false, responseStream: true },
  bytesOut: { requestStream: false, responseStream: true },
  bytesIn: { requestStream: true, responseStream: false },
  session: { requestStream: true, responseStream: true },
};

test('the service kukeon.v1.Kukeon has exactly the rpcs of METHODS, with their streaming', () => {
  assert.ok(service, `the proto defines ${SERVICE}`);
  const entries = Object.entries(METHODS) as [string, { rpc: string; shape: MethodShape }][];
  assert.equal(Object.keys(service).sort(), entries.map(([, m]) => m.rpc).sort(), 'rpcs of the proto vs METHODS');
  for (const [verb, m] of entries) {
    const rpc = service[m.rpc];
    assert.equal(rpc.path, `/${SERVICE}/${m.rpc}`, `${verb}: path`);
    assert.equal(
      { requestStream: rpc.requestStream, responseStream: rpc.responseStream },
      STREAMING[m.shape],
      `${verb} (${m.rpc}) is ${m.shape} in wire.ts`,
    );
  }
});

test('each rpc carries the messages its shape says', () => {
  for (const [verb, m] of Object.entries(METHODS) as [string, { rpc: string; shape: MethodShape }][]) {
    const rpc = service[m.rpc] as unknown as { requestType: { type: { name: string } }; responseType: { type: { name: string } } };
    const want =
      m.shape === 'bytesIn'
        ? ['Chunk', 'Json']
        : m.shape === 'bytesOut'
          ? ['Json', 'Chunk']
          : m.shape === 'session'
            ? ['Frame', 'Frame']
            : ['Json', 'Json'];
    assert.equal([rpc.requestType.type.name, rpc.responseType.type.name], want, `${verb} (${m.rpc}, ${m.shape})`);
  }
});

test("a Json stream's comment names progress exactly when the rpc is a mutation", () => {
  const text = fs.readFileSync(path.join(PROTO_DIR, PROTO_FILE), 'utf8');
  for (const m of Object.values(METHODS) as { rpc: string; shape: MethodShape }[]) {
    const comment = new RegExp(`//([^\\n]*)\\n\\s*rpc ${m.rpc}\\(`).exec(text)?.[1];
    assert.ok(comment?.trim(), `rpc ${m.rpc} has a comment naming its types`);
    if (m.shape === 'mutation' || m.shape === 'items') {
      assert.is(/\bprogress:/.test(comment!), m.shape === 'mutation', `rpc ${m.rpc} (${m.shape}): ${comment}`);
    }
  }
});

test("METHODS' verbs are exactly CONTROLLER_VERBS", () => {
  assert.equal(Object.keys(METHODS).sort(), [...CONTROLLER_VERBS].sort());
});

test('Json and Chunk each have one field, number 1, of type bytes (the hand codec depends on it)', () => {
  for (const name of ['Json', 'Chunk']) {
    const def = pkg[`kukeon.v1.${name}`] as { type?: unknown };
    assert.ok(def?.type, `the proto has a message ${name}`);
    const fields = (def.type as { field: { name: string; number: number; type: string; label: string }[] }).field;
    assert.is(fields.length, 1, `${name} has one field`);
    assert.is(fields[0].number, 1, `${name}.${fields[0].name} is field 1`);
    assert.is(fields[0].type, 'TYPE_BYTES', `${name}.${fields[0].name} is bytes`);
    assert.is(fields[0].label, 'LABEL_OPTIONAL', `${name}.${fields[0].name} is a singular field`);
  }
});

/** Payloads whose lengths take one, two and three bytes of varint (127, 128, 16383, 16384 are the edges). */
const SIZES = [0, 1, 127, 128, 300, 16383, 16384, 70000];
const payload = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));

test('encodeBytes and decodeBytes agree with protobufjs on Json and Chunk', () => {
  for (const name of ['Json', 'Chunk']) {
    const T = pbType(name);
    const field = name === 'Json' ? 'json' : 'data';
    for (const n of SIZES) {
      const bytes = payload(n);
      const ours = encodeBytes(bytes);
      const theirs = Buffer.from(T.encode(T.fromObject({ [field]: bytes })).finish());
      // protobufjs writes a present empty field (0a 00); proto3's canonical form, ours, leaves it out: both read as empty.
      if (n > 0) assert.equal(ours.toString('hex'), theirs.toString('hex'), `${name}: ${n} bytes encode the same`);
      assert.ok(fieldOf(T, ours, field).equals(bytes), `${name}: protobufjs decodes our ${n} bytes`);
      assert.ok(decodeBytes(theirs).equals(bytes), `${name}: we decode protobufjs's ${n} bytes`);
    }
  }
});

test('encodeJson and decodeJson round-trip through protobufjs, empty and long values included', () => {
  const T = pbType('Json');
  const values: unknown[] = [
    {},
    null,
    0,
    '',
    [],
    { ref: { kind: 'Cell', path: ['main', 'blog', 'wp', 'web'] }, timeoutMs: 0 },
    'é€😀',
    'x'.repeat(125), // 127 bytes of JSON: a one-byte length
    'x'.repeat(126), // 128: two bytes
    { text: 'y'.repeat(16370) },
    { text: 'z'.repeat(20000) }, // over 16384: three bytes
  ];
  for (const value of values) {
    const json = JSON.stringify(value);
    const ours = encodeJson(value);
    const theirs = Buffer.from(T.encode(T.fromObject({ json: Buffer.from(json, 'utf8') })).finish());
    assert.equal(ours.toString('hex'), theirs.toString('hex'), `${json.slice(0, 40)}: same encoding`);
    assert.equal(decodeJson(theirs), value, `${json.slice(0, 40)}: decodes protobufjs's message`);
    assert.is(fieldOf(T, ours, 'json').toString('utf8'), json, `${json.slice(0, 40)}: protobufjs reads ours`);
  }
  // No value at all: an empty message both ways (proto3 leaves a default field out).
  assert.is(encodeJson(undefined).length, 0);
  assert.is(Buffer.from(T.encode(T.fromObject({})).finish()).length, 0);
  assert.is(decodeJson(Buffer.alloc(0)), undefined);
  assert.is(decodeBytes(Buffer.alloc(0)).length, 0);
});

test('decodeBytes skips unknown fields of every wire type, before and after field 1', () => {
  const T = pbType('Json');
  const body = Buffer.from(JSON.stringify({ hello: 'world' }), 'utf8');
  const known = Buffer.from(T.encode(T.fromObject({ json: body })).finish());
  const unknown = Buffer.concat([
    Buffer.from([0x10, 0x96, 0x01]), // field 2, varint 150
    Buffer.from([0x19, 1, 2, 3, 4, 5, 6, 7, 8]), // field 3, fixed64
    Buffer.from([0x22, 3, 0x61, 0x62, 0x63]), // field 4, length-delimited "abc"
    Buffer.from([0x2d, 1, 2, 3, 4]), // field 5, fixed32
    Buffer.from([0xa0, 0x1f, 0x01]), // field 500 (a two-byte key), varint 1
  ]);
  for (const msg of [Buffer.concat([unknown, known]), Buffer.concat([known, unknown]), Buffer.concat([unknown, known, unknown])]) {
    assert.equal(decodeJson(msg), { hello: 'world' });
    assert.is(fieldOf(T, msg, 'json').toString('utf8'), body.toString('utf8'), 'protobufjs agrees');
  }
  assert.is(decodeBytes(unknown).length, 0, 'no field 1: empty');
  assert.throws(() => decodeBytes(Buffer.from([0x0a, 5, 1, 2])), /truncated/);
});

test('Frame is json = 1 and data = 2 (bytes), stream = 3 (uint32), as the hand codec of frame.ts writes them', () => {
  const def = pkg['kukeon.v1.Frame'] as { type?: { field: { name: string; number: number; type: string; label: string }[] } };
  assert.ok(def?.type, 'the proto has a message Frame');
  const fields = def.type!.field.map((f) => [f.name, f.number, f.type, f.label]);
  assert.equal(fields, [
    ['json', 1, 'TYPE_BYTES', 'LABEL_OPTIONAL'],
    ['data', 2, 'TYPE_BYTES', 'LABEL_OPTIONAL'],
    ['stream', 3, 'TYPE_UINT32', 'LABEL_OPTIONAL'],
  ]);
});

test('encodeFrame and decodeFrame agree with protobufjs: controls, stream bytes of every length, streams 0..2 and big numbers', () => {
  const T = pbType('Frame');
  const cases: { json?: unknown; data?: Buffer; stream?: number }[] = [
    { json: { ref: { kind: 'Cell', path: ['main', 'default', 'default', 'web'] }, command: ['sh', '-c', 'echo é'] } },
    { json: { eof: true } },
    { json: { resize: { cols: 80, rows: 24 } } },
    { json: { result: { exitCode: 0 } } },
    { json: { result: null } },
    ...SIZES.filter((n) => n > 0).map((n) => ({ data: payload(n), stream: 1 })),
    { data: payload(300) }, // stdin: stream 0, left out
    { data: payload(5), stream: 2 },
    { data: payload(5), stream: 300 }, // a two-byte varint (decoders must read it, even if kukeon only uses 0..2)
  ];
  for (const c of cases) {
    const label = JSON.stringify({ ...c, data: c.data?.length });
    const ours = encodeFrame(c);
    const obj: Record<string, unknown> = {};
    if (c.json !== undefined) obj.json = Buffer.from(JSON.stringify(c.json), 'utf8');
    if (c.data) obj.data = c.data;
    if (c.stream) obj.stream = c.stream;
    const theirs = Buffer.from(T.encode(T.fromObject(obj)).finish());
    assert.equal(ours.toString('hex'), theirs.toString('hex'), `${label}: same encoding`);
    const back = decodeFrame(theirs);
    assert.equal(back.json, c.json, `${label}: json`);
    assert.equal(back.data ? [...back.data] : undefined, c.data ? [...c.data] : undefined, `${label}: data`);
    assert.is(back.stream, c.stream ?? 0, `${label}: stream`);
  }
  // unknown fields around the known ones are skipped
  const known = encodeFrame({ data: Buffer.from('hi'), stream: 2 });
  const unknown = Buffer.from([0x22, 3, 0x61, 0x62, 0x63, 0x28, 0x07]); // field 4 "abc", field 5 varint 7
  const mixed = decodeFrame(Buffer.concat([unknown, known, unknown]));
  assert.is(mixed.data?.toString(), 'hi');
  assert.is(mixed.stream, 2);
  assert.throws(() => decodeFrame(Buffer.from([0x12, 5, 1, 2])), /truncated/);
});

test('docs/api.md is what scripts/gen-api-doc.js makes of the proto', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-api-doc-'));
  try {
    const out = path.join(dir, 'api.md');
    execFileSync(process.execPath, [GENERATOR, out], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const want = fs.readFileSync(out, 'utf8');
    const have = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '';
    if (have !== want) {
      const a = have.split('\n');
      const b = want.split('\n');
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      assert.unreachable(
        `docs/api.md is out of date with the proto or the SDK: run \`npm run docs:api\` and commit it (first difference at line ${i + 1}: have ${JSON.stringify(a[i])}, want ${JSON.stringify(b[i])})`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
