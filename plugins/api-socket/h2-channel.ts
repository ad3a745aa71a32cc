// The client side of gRPC over HTTP/2 on a unix socket, on Node's built-in http2: unary, server-streaming,
// client-streaming and bidirectional calls, deadlines, cancellation (RST_STREAM CANCEL), keepalive pings, statuses
// and `-bin` metadata.
// Why not @grpc/grpc-js here (the server uses it): loading it costs ~30-90 ms, most of a `kuke get` through the
// daemon; this file is what kukeon.v1 needs of a client and loads nothing but http2 (see test/daemon.test.ts's
// module check, and bench/daemon.ts for the start-up ratio).

import http2 from 'node:http2';
import net from 'node:net';

export interface GrpcError extends Error {
  code: number;
  details: string;
  /** Trailing metadata; `-bin` values decoded to Buffers. */
  metadata: Map<string, string | Buffer>;
}

export interface CallOptions {
  /** Absolute time in ms (Date.now() based). */
  deadline?: number;
  signal?: AbortSignal;
  /**
   * A call with no deadline and long silences (a session): ping the server this often, and fail the call with
   * UNAVAILABLE when a ping goes unanswered as long (a daemon that hangs; one that dies closes the socket at once).
   */
  keepaliveMs?: number;
}

const CANCELLED = 1;
const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;
const INTERNAL = 13;

function grpcError(code: number, details: string, metadata = new Map<string, string | Buffer>()): GrpcError {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

/** gRPC's `grpc-timeout`: at most 8 digits, so long ones go in seconds or hours. */
function grpcTimeout(ms: number): string {
  const v = Math.max(1, Math.ceil(ms));
  if (v < 1e8) return `${v}m`;
  if (v < 1e11) return `${Math.ceil(v / 1000)}S`;
  return `${Math.min(99_999_999, Math.ceil(v / 3_600_000))}H`;
}

/** One length-prefixed gRPC message: flag 0 (uncompressed), 4-byte big-endian length, the bytes. */
function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** The status a set of headers or trailers carries, or undefined when they carry none. */
function statusOf(headers: http2.IncomingHttpHeaders): GrpcError | { ok: true } | undefined {
  const raw = headers['grpc-status'];
  if (raw === undefined) return undefined;
  const code = Number(raw);
  if (code === 0) return { ok: true };
  const metadata = new Map<string, string | Buffer>();
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(':') || v === undefined) continue;
    const value = Array.isArray(v) ? v[0] : String(v);
    metadata.set(k, k.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
  }
  let details = String(headers['grpc-message'] ?? '');
  try {
    details = decodeURIComponent(details);
  } catch {
    // not percent-encoded after all
  }
  return grpcError(code, details, metadata);
}

export class H2Channel {
  private session: http2.ClientHttp2Session | undefined;
  /** Calls in flight: the connection keeps the process alive only while there is one (ref/unref do not count). */
  private active = 0;

  constructor(private readonly socketPath: string) {}

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(this.socketPath) });
    session.on('error', () => undefined); // each stream reports its own failure
    session.unref(); // an idle connection never keeps the process alive
    this.session = session;
    return session;
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  /**
   * Starts a call; `onMessage` gets each response message, `done` the final status. Returns the request stream
   * (for client streaming) and a cancel function.
   */
  private start(
    path: string,
    opts: CallOptions,
    onMessage: (m: Buffer) => void,
    done: (err: GrpcError | undefined) => void,
  ): { req: http2.ClientHttp2Stream; cancel: () => void } {
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    };
    if (opts.deadline !== undefined) headers['grpc-timeout'] = grpcTimeout(opts.deadline - Date.now());
    const session = this.connect();
    if (this.active++ === 0) session.ref();
    const req = session.request(headers);
    let settled = false;
    const finish = (err: GrpcError | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(pings);
      clearTimeout(unanswered);
      opts.signal?.removeEventListener('abort', onAbort);
      if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL);
      if (--this.active === 0) session.unref();
      done(err);
    };
    const onAbort = () => finish(grpcError(CANCELLED, 'cancelled by the client'));
    const timer =
      opts.deadline !== undefined
        ? setTimeout(() => finish(grpcError(DEADLINE_EXCEEDED, 'deadline exceeded')), Math.min(opts.deadline - Date.now(), 2 ** 31 - 1))
        : undefined;
    if (opts.signal?.aborted) queueMicrotask(onAbort);
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    const keepaliveMs = opts.keepaliveMs;
    let unanswered: NodeJS.Timeout | undefined;
    const pings =
      keepaliveMs !== undefined
        ? setInterval(() => {
            if (unanswered) return; // the last ping is still out
            unanswered = setTimeout(() => finish(grpcError(UNAVAILABLE, `no answer to a ping for ${keepaliveMs / 1000} s`)), keepaliveMs);
            const answered = () => {
              clearTimeout(unanswered);
              unanswered = undefined;
            };
            try {
              session.ping(answered); // an error (the session closed) is an answer too: the stream reports it
            } catch {
              answered();
            }
          }, keepaliveMs)
        : undefined;

    let buf: Buffer = Buffer.alloc(0);
    req.on('response', (h) => {
      const s = statusOf(h); // a trailers-only response: the status comes with the headers
      if (s) status = s;
      if (s && 'code' in s) finish(s);
    });
    req.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 5) {
        const len = buf.readUInt32BE(1);
        if (buf.length < 5 + len) break;
        if (buf[0] !== 0) return finish(grpcError(INTERNAL, 'a compressed message, which kukeon never asks for'));
        const msg = buf.subarray(5, 5 + len);
        buf = buf.subarray(5 + len);
        if (!settled) onMessage(msg);
      }
    });
    // Success only with a status: a server that dies mid-stream ends the stream without one, and that is an error.
    let status: GrpcError | { ok: true } | undefined;
    req.on('trailers', (t) => {
      status = statusOf(t);
    });
    const ended = () =>
      finish(
        status === undefined
          ? grpcError(
              UNAVAILABLE,
              req.rstCode ? `stream reset (${req.rstCode})` : 'the stream ended without a status (the daemon went away)',
            )
          : 'code' in status
            ? status
            : undefined,
      );
    req.on('end', ended);
    req.on('error', (err: Error) => finish(grpcError(UNAVAILABLE, err.message)));
    req.on('close', ended);
    return { req, cancel: onAbort };
  }

  unary(path: string, message: Buffer, opts: CallOptions = {}): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let reply: Buffer | undefined;
      const { req } = this.start(
        path,
        opts,
        (m) => {
          reply = m;
        },
        (err) => (err ? reject(err) : reply === undefined ? reject(grpcError(INTERNAL, 'no response message')) : resolve(reply)),
      );
      req.end(frame(message));
    });
  }

  /** A server stream: messages as they come; the iterator throws the final error status. */
  async *serverStream(path: string, message: Buffer, opts: CallOptions = {}): AsyncIterable<Buffer> {
    const queue: Buffer[] = [];
    let end: { err: GrpcError | undefined } | undefined;
    let wake: (() => void) | undefined;
    const poke = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const { req, cancel } = this.start(
      path,
      opts,
      (m) => {
        queue.push(m);
        poke();
      },
      (err) => {
        end = { err };
        poke();
      },
    );
    req.end(frame(message));
    try {
      for (;;) {
        if (queue.length) {
          yield queue.shift() as Buffer;
          continue;
        }
        if (end) {
          if (end.err) throw end.err;
          return;
        }
        await new Promise<void>((r) => {
          wake = r;
        });
      }
    } finally {
      if (!end) cancel(); // the consumer stopped early
    }
  }

  /** A client stream: writes each message of `messages` (with backpressure), then returns the one reply. */
  clientStream(path: string, messages: AsyncIterable<Buffer>, opts: CallOptions = {}): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let reply: Buffer | undefined;
      let finished = false;
      const { req, cancel } = this.start(
        path,
        opts,
        (m) => {
          reply = m;
        },
        (err) => {
          finished = true;
          if (err) reject(err);
          else if (reply === undefined) reject(grpcError(INTERNAL, 'no response message'));
          else resolve(reply);
        },
      );
      (async () => {
        for await (const m of messages) {
          if (finished) return; // the server answered early: stop reading the input
          if (!req.write(frame(m))) {
            await new Promise<void>((r) => {
              const done = () => {
                req.off('drain', done);
                req.off('close', done);
                r();
              };
              req.on('drain', done);
              req.on('close', done);
            });
          }
        }
        req.end();
      })().catch((err) => {
        reject(err); // the input's own error (first: cancel() would settle the call as cancelled)
        cancel();
      });
    });
  }

  /**
   * A bidirectional stream: writes each message of `messages` (with backpressure; the request side ends when they
   * do), and hands each response message to `onMessage` in order, the next held back (and the stream paused, so
   * HTTP/2 flow control stops the server) until its promise settles. Resolves when the call ends with OK, after
   * every message was handled; rejects with the error status, or with `onMessage`'s or `messages`' error.
   */
  bidiStream(
    path: string,
    messages: AsyncIterable<Buffer>,
    onMessage: (m: Buffer) => void | Promise<void>,
    opts: CallOptions = {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue: Buffer[] = [];
      let handling = false;
      let end: { err: GrpcError | undefined } | undefined;
      let settled = false;
      const input = messages[Symbol.asyncIterator]();
      const settle = (err: unknown) => {
        if (settled) return;
        settled = true;
        // Tell the input's source to stop (without waiting: it may be waiting on a terminal that never types).
        input.return?.().catch(() => undefined);
        if (err) reject(err);
        else resolve();
      };
      const handle = async () => {
        if (handling) return;
        handling = true;
        try {
          while (queue.length && !settled) await onMessage(queue.shift() as Buffer);
        } catch (err) {
          settle(err);
          cancel();
          return;
        } finally {
          handling = false;
        }
        if (end) settle(end.err);
        else if (!settled) req.resume();
      };
      const { req, cancel } = this.start(
        path,
        opts,
        (m) => {
          queue.push(m);
          req.pause();
          void handle();
        },
        (err) => {
          end = { err };
          // A failed call drops what is left unhandled (a consumer that blocks must not hold the error back).
          if (err) settle(err);
          else void handle();
        },
      );
      (async () => {
        for (;;) {
          const next = await input.next();
          if (next.done || settled) break;
          if (!req.write(frame(next.value))) {
            await new Promise<void>((r) => {
              const done = () => {
                req.off('drain', done);
                req.off('close', done);
                r();
              };
              req.on('drain', done);
              req.on('close', done);
            });
          }
        }
        if (!settled && !req.closed) req.end();
      })().catch((err) => {
        settle(err); // the input's own error (first: cancel() would settle the call as cancelled)
        cancel();
      });
    });
  }
}
