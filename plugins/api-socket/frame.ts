// The Frame message of kukeon.v1's session rpcs (Exec, Attach), hand-coded like wire.ts's Json and Chunk so the
// client loads no protobufjs: field 1 `json` (control: the request, `{eof}`, `{resize}`, the `{result}`), field 2
// `data` (a stream's bytes, carried as they are, without base64), field 3 `stream` (0 stdin, 1 stdout, 2 stderr).

import { pushVarint, readFields } from './wire';

/** A decoded Frame: `json` parsed when present, `data` when present (a view of the message's bytes). */
export interface Frame {
  json?: unknown;
  data?: Buffer;
  /** 0 stdin, 1 stdout, 2 stderr (0, proto3's default, when absent). */
  stream: number;
}

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

/** Encodes a Frame; absent and default fields are left out, as proto3 writes them. */
export function encodeFrame(frame: { json?: unknown; data?: Uint8Array; stream?: number }): Buffer {
  const parts: Buffer[] = [];
  const field = (key: number, bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    const head: number[] = [key];
    pushVarint(bytes.length, head);
    parts.push(Buffer.from(head), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  };
  if (frame.json !== undefined) field(0x0a, Buffer.from(JSON.stringify(frame.json), 'utf8'));
  if (frame.data) field(0x12, frame.data);
  if (frame.stream) {
    const head: number[] = [0x18];
    pushVarint(frame.stream, head);
    parts.push(Buffer.from(head));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** Decodes a Frame; unknown fields are skipped, as protobuf requires. Throws on bytes that are not a Frame. */
export function decodeFrame(buf: Buffer): Frame {
  const frame: Frame = { stream: 0 };
  readFields(buf, (field, value) => {
    if (Buffer.isBuffer(value)) {
      if (field === 1) frame.json = value.length ? JSON.parse(value.toString('utf8')) : undefined;
      else if (field === 2) frame.data = value;
    } else if (field === 3) frame.stream = value;
  });
  return frame;
}
