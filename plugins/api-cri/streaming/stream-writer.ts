// Writes to a SPDY stream for SessionIO.output: a write the stream cannot take yet returns a promise that settles
// on 'drain' (backpressure reaches the runtime); a stream the client has reset or that is already ended drops
// the bytes, since nobody can read them any more.

import type { SpdyStream } from './spdy-types';

/** True while `stream` can still send (not ended, not reset). */
export function canWrite(stream: SpdyStream): boolean {
  const internal = stream as unknown as { _writableState?: { ending?: boolean }; _spdyState?: { aborted?: boolean } };
  return !stream.destroyed && !internal._writableState?.ending && !internal._spdyState?.aborted;
}

export function writeWithBackpressure(stream: SpdyStream, data: Uint8Array): void | Promise<void> {
  if (!canWrite(stream) || data.byteLength === 0) return;
  // A copy: the framer reads the bytes later, and the runtime may reuse its buffer once we return.
  if (stream.write(Buffer.from(data))) return;
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/** Half-closes `stream` (a FIN) if it can still send. */
export function endStream(stream: SpdyStream | undefined): void {
  if (stream && canWrite(stream)) stream.end();
}
