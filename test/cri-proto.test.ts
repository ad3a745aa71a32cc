// kukeon's transcription of the Kubernetes CRI v1 API (plugins/api-cri/proto/runtime/v1/api.proto) against the
// published one: the FileDescriptorProto of k8s.io/cri-api's api.proto that crictl (cri-tools v1.26, cri-api v0.26)
// has compiled in, read from the critest kit's binary at test time. Every message, field, enum value and rpc must
// match in name, number, type, label, map and oneof, so that kubelet, crictl and critest speak to kukeon on the wire.
// Without the kit the comparison is skipped with its reason (a failure under KUKEON_E2E=required).

import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { locateCritestKit } from './helpers/critest-kit';
import { diffProtoShapes } from './helpers/proto-shape';
import { protoShapeOfDescriptor } from './helpers/proto-shape-of-descriptor';
import { protoShapeOfRoot } from './helpers/proto-shape-of-root';
import { publishedCriDescriptor } from './helpers/published-cri-descriptor';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PROTO = path.join(REPO_ROOT, 'plugins', 'api-cri', 'proto', 'runtime', 'v1', 'api.proto');
const PKG = 'runtime.v1';

/** The shape of our api.proto, or of its text changed by `edit` (which must change something). */
function oursShape(edit?: (text: string) => string) {
  const text = fs.readFileSync(PROTO, 'utf8');
  const changed = edit ? edit(text) : text;
  if (edit) assert.not.equal(changed, text, 'the edit changes the file');
  return protoShapeOfRoot(protobuf.parse(changed, { keepCase: true }).root, PKG);
}

test('api.proto loads alone with proto-loader, and grpc-js has runtime.v1.RuntimeService and ImageService', () => {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const runtime = (grpc.loadPackageDefinition(def).runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const rs = runtime.RuntimeService as grpc.ServiceClientConstructor;
  const is = runtime.ImageService as grpc.ServiceClientConstructor;
  assert.type(rs, 'function');
  assert.type(is, 'function');
  assert.is(rs.service.RunPodSandbox.path, '/runtime.v1.RuntimeService/RunPodSandbox');
  assert.is(is.service.PullImage.path, '/runtime.v1.ImageService/PullImage');
  assert.ok(rs.service.GetContainerEvents.responseStream, 'GetContainerEvents streams its responses');
});

test('the comparer names each change by its path', () => {
  const ours = oursShape();
  assert.equal(diffProtoShapes(ours, ours), []);
  const cases: [string, (t: string) => string, string[]][] = [
    [
      'a field number',
      (t) => t.replace(/(message PodSandboxConfig \{[^}]*string hostname = )2;/, '$120;'),
      ['runtime.v1.PodSandboxConfig.field hostname: number 20 vs 2'],
    ],
    [
      'a map value type',
      (t) => t.replace(/(message PodSandboxConfig \{[^}]*)map<string, string> labels/, '$1map<string, bytes> labels'),
      ['runtime.v1.PodSandboxConfig.field labels: type map<string, bytes> vs map<string, string>'],
    ],
    [
      'oneof membership',
      (t) => t.replace(/(message PodSandboxConfig \{[^}]*)(string hostname = 2;)/, '$1oneof host { $2 }'),
      ['runtime.v1.PodSandboxConfig.field hostname: oneof host vs (none)'],
    ],
    [
      'streaming',
      (t) => t.replace('returns (stream ContainerEventResponse)', 'returns (ContainerEventResponse)'),
      ['runtime.v1.RuntimeService.rpc GetContainerEvents: serverStreaming false vs true'],
    ],
    [
      'an enum value',
      (t) => t.replace('SANDBOX_NOTREADY = 1;', 'SANDBOX_NOT_READY = 1;'),
      [
        'runtime.v1.PodSandboxState.value SANDBOX_NOTREADY: only in published',
        'runtime.v1.PodSandboxState.value SANDBOX_NOT_READY: only in ours',
      ],
    ],
  ];
  for (const [what, edit, want] of cases) assert.equal(diffProtoShapes(oursShape(edit), ours), want, what);
});

test.run();

const published = suite('CRI v1 as published');
const kit = locateCritestKit();
if (kit.dir) {
  const crictl = path.join(kit.dir, 'bin', 'crictl');
  const descriptor = publishedCriDescriptor(crictl);

  published('api.proto has every message, field, enum and rpc of the published runtime.v1, and nothing else', () => {
    assert.is(descriptor.name, 'api.proto');
    const theirs = protoShapeOfDescriptor(descriptor);
    assert.ok(Object.keys(theirs.services).length === 2 && Object.keys(theirs.messages).length > 100, 'the descriptor is whole');
    const diff = diffProtoShapes(oursShape(), theirs);
    assert.equal(diff, [], `ours vs ${crictl}:\n  ${diff.join('\n  ')}`);
  });

  published('the comparer reads the published descriptor: a changed copy differs by exactly that field', () => {
    const copy = structuredClone(descriptor);
    const field = copy.messageType?.find((m) => m.name === 'PodSandboxConfig')?.field?.find((f) => f.name === 'hostname');
    assert.ok(field, 'PodSandboxConfig.hostname is published');
    field.number = 20;
    assert.equal(diffProtoShapes(oursShape(), protoShapeOfDescriptor(copy)), [
      'runtime.v1.PodSandboxConfig.field hostname: number 2 vs 20',
    ]);
  });
} else if (process.env.KUKEON_E2E === 'required') {
  published('critest kit', () => {
    throw new Error(`KUKEON_E2E=required but the published CRI descriptor cannot be read: ${kit.reason}`);
  });
} else {
  console.log(`SKIP CRI v1 as published: ${kit.reason}`);
  published.skip('CRI v1 as published');
}
published.run();
