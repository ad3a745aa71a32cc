// kukeon.v1 on the wire (proto/kukeon/v1/kukeon.proto): the method table, the codec of its two one-field
// messages, and errors as gRPC statuses (sessions' Frame has its own codec, frame.ts). Shared by the server and
// the client; it loads no .proto at run time, so a client that talks to the daemon stays small (protobufjs is
// neither needed nor loaded).

import { ErrorCodes, KukeonError } from '../../sdk';
import type { ControllerApi, ErrorCode, KukeonErrorDetails } from '../../sdk';

export const SERVICE = 'kukeon.v1.Kukeon';
/** Where kukeond serves unless told otherwise (on tmpfs, beside its pid file; the seed's socket path). */
export const DEFAULT_SOCKET = '/run/kukeon/kukeond.sock';
export const ERROR_METADATA_KEY = 'kukeon-error-bin';

/**
 * How each verb travels: `unary` (Json → Json); `mutation` (Json → stream of progress frames, then the result);
 * `items` (Json → stream of Json values); `bytesOut` (Json → stream of Chunk); `bytesIn` (stream of Chunk → Json);
 * `session` (a bidirectional stream of Frame: the request, then input; output, then the result).
 */
export type MethodShape = 'unary' | 'mutation' | 'items' | 'bytesOut' | 'bytesIn' | 'session';

export const METHODS = {
  version: { rpc: 'Version', shape: 'unary' },
  apply: { rpc: 'Apply', shape: 'mutation' },
  create: { rpc: 'Create', shape: 'mutation' },
  get: { rpc: 'Get', shape: 'unary' },
  describe: { rpc: 'Describe', shape: 'unary' },
  delete: { rpc: 'Delete', shape: 'mutation' },
  deleteDocuments: { rpc: 'DeleteDocuments', shape: 'mutation' },
  purge: { rpc: 'Purge', shape: 'mutation' },
  start: { rpc: 'Start', shape: 'unary' },
  stop: { rpc: 'Stop', shape: 'unary' },
  kill: { rpc: 'Kill', shape: 'unary' },
  restart: { rpc: 'Restart', shape: 'unary' },
  refresh: { rpc: 'Refresh', shape: 'mutation' },
  loadImage: { rpc: 'LoadImage', shape: 'bytesIn' },
  listImages: { rpc: 'ListImages', shape: 'unary' },
  pullImage: { rpc: 'PullImage', shape: 'items' },
  removeImage: { rpc: 'RemoveImage', shape: 'unary' },
  pruneImages: { rpc: 'PruneImages', shape: 'unary' },
  logs: { rpc: 'Logs', shape: 'bytesOut' },
  wait: { rpc: 'Wait', shape: 'items' },
  watch: { rpc: 'Watch', shape: 'items' },
  doctor: { rpc: 'Doctor', shape: 'unary' },
  plugins: { rpc: 'Plugins', shape: 'unary' },
  listSecrets: { rpc: 'ListSecrets', shape: 'unary' },
  deleteSecret: { rpc: 'DeleteSecret', shape: 'mutation' },
  exec: { rpc: 'Exec', shape: 'session' },
  attach: { rpc: 'Attach', shape: 'session' },
} as const satisfies Record<keyof ControllerApi, { rpc: string; shape: MethodShape }>;

export type Verb = keyof typeof METHODS;

export function methodPath(verb: Verb): string {
  return `/${SERVICE}/${METHODS[verb].rpc}`;
}

/** A frame of a `mutation` stream. */
export type MutationFrame = { progress: unknown; result?: undefined } | { result: unknown; progress?: undefined };

/** Appends `n` as a protobuf varint. */
export function pushVarint(n: number, out: number[]): void {
  for (;;) {
    if (n < 128) {
      out.push(n);
      return;
    }
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
}

/**
 * Walks a message's fields: `onField` gets each length-delimited field's bytes (a view) or each varint's value;
 * fixed-width fields are skipped, as protobuf requires of unknown ones. Throws on bytes that are not a message.
 */
export function readFields(buf: Buffer, onField: (field: number, value: Buffer | number) => void): void {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let mul = 1; ; mul *= 128) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const type = key & 7;
    if (type === 2) {
      const len = varint();
      if (i + len > buf.length) throw new Error('truncated field');
      const bytes = buf.subarray(i, i + len);
      i += len;
      onField(field, bytes);
    } else if (type === 0) onField(field, varint());
    else if (type === 1) i += 8;
    else if (type === 5) i += 4;
    else throw new Error(`unsupported wire type ${type}`);
  }
  if (i > buf.length) throw new Error('truncated field');
}

/** Encodes `bytes` as field 1 (length-delimited) of a message: the whole of Json and Chunk. */
export function encodeBytes(bytes: Uint8Array): Buffer {
  if (bytes.length === 0) return Buffer.alloc(0); // proto3 leaves a default field out
  const head: number[] = [0x0a];
  pushVarint(bytes.length, head);
  return Buffer.concat([Buffer.from(head), bytes]);
}

/** Field 1 of a Json or Chunk message (empty when absent); other fields are skipped, as protobuf requires. */
export function decodeBytes(buf: Buffer): Buffer {
  let out: Buffer = Buffer.alloc(0);
  readFields(buf, (field, value) => {
    if (field === 1 && Buffer.isBuffer(value)) out = value;
  });
  return out;
}

export function encodeJson(value: unknown): Buffer {
  return encodeBytes(Buffer.from(value === undefined ? '' : JSON.stringify(value), 'utf8'));
}

export function decodeJson(buf: Buffer): unknown {
  const bytes = decodeBytes(buf);
  return bytes.length ? JSON.parse(bytes.toString('utf8')) : undefined;
}

/** gRPC status codes used here (grpc's numbering), without loading grpc-js to name them. */
export const GrpcStatus = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** The gRPC status a kukeon error travels with (clients read the code from the metadata, not from this). */
export function grpcStatusOf(code: ErrorCode): number {
  if (code === 'KUKEON_E_NOT_FOUND' || code === 'KUKEON_E_PARENT_NOT_FOUND') return GrpcStatus.NOT_FOUND;
  if (code === 'KUKEON_E_EXISTS' || code === 'KUKEON_E_CONFLICT') return GrpcStatus.ALREADY_EXISTS;
  if (code === 'KUKEON_E_BUSY') return GrpcStatus.ABORTED;
  if (code === 'KUKEON_E_CANCELLED') return GrpcStatus.CANCELLED;
  if (code === 'KUKEON_E_INTERNAL') return GrpcStatus.INTERNAL;
  if (code === 'KUKEON_E_HAS_CHILDREN' || code === 'KUKEON_E_STATE' || code === 'KUKEON_E_NO_RUNTIME')
    return GrpcStatus.FAILED_PRECONDITION;
  return GrpcStatus.INVALID_ARGUMENT;
}

export interface WireError {
  code: ErrorCode;
  message: string;
  details: KukeonErrorDetails;
}

export function encodeError(err: KukeonError): Buffer {
  const wire: WireError = { code: err.code, message: err.message, details: err.details };
  return Buffer.from(JSON.stringify(wire), 'utf8');
}

/** The KukeonError a `kukeon-error-bin` value carries, or undefined when it is not one. */
export function decodeError(value: unknown): KukeonError | undefined {
  if (!Buffer.isBuffer(value)) return undefined;
  try {
    const w = JSON.parse(value.toString('utf8')) as Partial<WireError>;
    if (typeof w.code !== 'string' || !(w.code in ErrorCodes) || typeof w.message !== 'string') return undefined;
    return new KukeonError(w.code as ErrorCode, w.message, w.details ?? {});
  } catch {
    return undefined;
  }
}
