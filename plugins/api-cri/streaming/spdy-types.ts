// The part of spdy-transport (which ships no types) that the streaming server and its tests use.

import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** One SPDY stream: a Duplex (readable-stream's) whose end is a FIN and whose destroy is a RST_STREAM. */
export interface SpdyStream extends Duplex {
  readonly id: number;
  /** The SYN_STREAM's headers; spdy-transport keeps the names as they came (lowercase on the wire). */
  readonly headers: Record<string, string | string[] | undefined>;
  /** Sends the SYN_REPLY (server side). */
  respond(status: number, headers: Record<string, string>, callback?: (err?: Error | null) => void): void;
  /** Sends RST_STREAM. */
  abort(callback?: () => void): void;
}

/** The frame parser's window side (spdy-transport's Window.Side), patched by go-compat. */
export interface SpdyWindowSide {
  update(size: number, callback?: () => void): void;
  getCurrent(): number;
}

export interface SpdyConnectionState {
  parser: {
    parseKVs(buffer: unknown, callback: (err: Error | null, headers?: Record<string, unknown>) => void): void;
  };
  framer: {
    headersToDict(headers: unknown, preprocess: unknown, callback: unknown): void;
  };
  window: { send: SpdyWindowSide };
}

export interface SpdyConnection {
  readonly socket: Socket;
  _spdyState: SpdyConnectionState;
  on(event: 'stream', listener: (stream: SpdyStream) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'close', listener: () => void): this;
  prependListener(event: 'stream', listener: (stream: SpdyStream) => void): this;
  /** Sets the frame version without waiting for the peer's first frame (a client). */
  start(version: number): void;
  /** Opens a stream (a client): SYN_STREAM with `headers`. */
  request(
    uri: { method: string; path: string; headers: Record<string, string> },
    callback: (err: Error | null, stream: SpdyStream) => void,
  ): SpdyStream;
  /** GOAWAY, then closes the socket once no stream is open. */
  end(callback?: () => void): void;
  ping(callback: (err: Error | null) => void): void;
}

export interface SpdyTransportModule {
  connection: {
    create(socket: Duplex, options: { protocol: 'spdy'; isServer: boolean; headerCompression?: boolean }): SpdyConnection;
  };
}
