// Loads kukeon's containerd proto subset (plugins/containerd/proto/*.proto) once per process.

import fs from 'node:fs';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

/** The options every proto file is loaded with: snake_case fields, int64 as strings, enums as names. */
export const PROTO_LOAD_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

let cachedDir: string | undefined;
let cachedDefinition: protoLoader.PackageDefinition | undefined;

/**
 * The directory holding the .proto files: the nearest ancestor of this module that has a package.json,
 * then `plugins/containerd/proto`. Works from the sources and from `dist/plugins/containerd/grpc/`.
 */
export function protoDir(): string {
  if (cachedDir) return cachedDir;
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'plugins', 'containerd', 'proto');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return (cachedDir = candidate);
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`containerd protos not found: no plugins/containerd/proto next to a package.json above ${__dirname}`);
}

/** The package definition of every proto file, loaded on first use and cached for the process. */
export function containerdPackageDefinition(): protoLoader.PackageDefinition {
  if (cachedDefinition) return cachedDefinition;
  const dir = protoDir();
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.proto'))
    .sort();
  cachedDefinition = protoLoader.loadSync(files, { ...PROTO_LOAD_OPTIONS, includeDirs: [dir] });
  return cachedDefinition;
}

/** The method definition `<package>.<Service>/<Method>`, e.g. `containerd.services.tasks.v1.Tasks`, `Wait`. */
export function methodDefinition(service: string, method: string): protoLoader.MethodDefinition<unknown, unknown> {
  const svc = containerdPackageDefinition()[service] as protoLoader.ServiceDefinition | undefined;
  const def = svc?.[method];
  if (!def || typeof def !== 'object' || !('path' in def)) throw new Error(`no method ${service}/${method} in kukeon's containerd protos`);
  return def as protoLoader.MethodDefinition<unknown, unknown>;
}

/** The message type `<package>.<Message>`, or undefined when kukeon's protos do not declare it. */
export function messageType(fullName: string): protoLoader.MessageTypeDefinition<unknown, unknown> | undefined {
  const t = containerdPackageDefinition()[fullName] as protoLoader.AnyDefinition | undefined;
  return t && 'format' in t && t.format === 'Protocol Buffer 3 DescriptorProto'
    ? (t as protoLoader.MessageTypeDefinition<unknown, unknown>)
    : undefined;
}
