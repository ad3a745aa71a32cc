// Serves a ControllerApi as kukeon.v1 over gRPC on a unix socket. One request's failure fails that request only;
// a cancelled call (client gone, Ctrl-C) aborts its operation through the AbortSignal the controller runs with.

import * as grpc from '@grpc/grpc-js';
import { KukeonError } from '../../sdk';
import type { ControllerApi, ProgressEvent } from '../../sdk';
import { encodeBytes, encodeJson, decodeBytes, decodeJson, METHODS, methodPath } from './wire';
import type { Verb } from './wire';
import { callSignal, statusOf } from './call-status';
import { checkRequestShape } from './request-shape';
import { serveSession } from './serve-session';

/** How often a running mutation tells its client it is still working (a client gives up after 60 s of silence). */
const HEARTBEAT_MS = 15_000;
/** kuke sends at most 16 MiB of manifest (the host's input limit); JSON at most doubles valid YAML (one escape a character). */
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

type Log = (format: string, ...args: unknown[]) => void;

const identity = (b: Buffer) => b;

/** The service definition for grpc-js: every method's path, streaming shape and codec. */
function serviceDefinition(): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const verb of Object.keys(METHODS) as Verb[]) {
    const shape = METHODS[verb].shape;
    def[METHODS[verb].rpc] = {
      path: methodPath(verb),
      requestStream: shape === 'bytesIn' || shape === 'session',
      responseStream: shape === 'mutation' || shape === 'items' || shape === 'bytesOut' || shape === 'session',
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
      originalName: verb,
    };
  }
  return def;
}

type Api = Record<Verb, (...args: unknown[]) => unknown>;

/** The request of a call, checked: bytes that are not a Json message, or JSON of the wrong shape, are the caller's error. */
function requestOf(verb: Verb, buf: Buffer): unknown {
  let req: unknown;
  try {
    req = decodeJson(buf);
  } catch (err) {
    throw new KukeonError('KUKEON_E_USAGE', `${verb}: the request is not a kukeon.v1 Json message (${(err as Error).message})`);
  }
  checkRequestShape(verb, req);
  return req;
}

export function kukeonHandlers(api: ControllerApi, log: Log, inflight: Set<AbortController>): grpc.UntypedServiceImplementation {
  const call = api as unknown as Api;
  const track = (ac: AbortController) => {
    inflight.add(ac);
    return () => inflight.delete(ac);
  };
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const verb of Object.keys(METHODS) as Verb[]) {
    const shape = METHODS[verb].shape;
    if (shape === 'session') {
      handlers[METHODS[verb].rpc] = serveSession(verb, (req, io, opts) => call[verb](req, io, opts), log, track);
      continue;
    }
    const argsOf = (req: unknown): unknown[] =>
      verb === 'version' || verb === 'refresh' || verb === 'doctor' || verb === 'plugins' ? [] : [req ?? {}];
    if (shape === 'unary') {
      handlers[METHODS[verb].rpc] = (c: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
        const ac = callSignal(c);
        const untrack = track(ac);
        Promise.resolve()
          .then(() => call[verb](...argsOf(requestOf(verb, c.request)), { signal: ac.signal }))
          .then(
            (result) => done(null, encodeJson(result ?? null)),
            (err) => {
              log('%s failed: %s', verb, (err as Error)?.message);
              done(statusOf(err));
            },
          )
          .finally(untrack);
      };
    } else if (shape === 'mutation') {
      handlers[METHODS[verb].rpc] = (c: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const ac = callSignal(c);
        const untrack = track(ac);
        const send = (frame: unknown) => {
          if (!c.cancelled) c.write(encodeJson(frame));
        };
        const beat = setInterval(() => send({ progress: { kind: 'heartbeat' } satisfies ProgressEvent }), HEARTBEAT_MS);
        const onProgress = (progress: ProgressEvent) => send({ progress });
        Promise.resolve()
          .then(() => call[verb](...argsOf(requestOf(verb, c.request)), { signal: ac.signal, onProgress }))
          .then(
            (result) => {
              send({ result: result ?? null });
              c.end();
            },
            (err) => {
              log('%s failed: %s', verb, (err as Error)?.message);
              c.emit('error', statusOf(err));
            },
          )
          .finally(() => {
            clearInterval(beat);
            untrack();
          });
      };
    } else if (shape === 'items' || shape === 'bytesOut') {
      handlers[METHODS[verb].rpc] = (c: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const ac = callSignal(c);
        const untrack = track(ac);
        (async () => {
          const items = call[verb](requestOf(verb, c.request) ?? {}, { signal: ac.signal }) as AsyncIterable<unknown>;
          for await (const item of items) {
            if (c.cancelled) break;
            // backpressure: a slow reader (kuke log | less) must not make the daemon buffer a whole log
            if (!c.write(shape === 'bytesOut' ? encodeBytes(item as Uint8Array) : encodeJson(item))) {
              await new Promise<void>((resolve) => {
                const done = () => {
                  c.off('drain', done);
                  c.off('cancelled', done);
                  resolve();
                };
                c.on('drain', done);
                c.on('cancelled', done);
              });
            }
          }
        })()
          .then(
            () => c.end(),
            (err) => {
              if (!c.cancelled) c.emit('error', statusOf(err));
            },
          )
          .finally(untrack);
      };
    } else {
      handlers[METHODS[verb].rpc] = (c: grpc.ServerReadableStream<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
        const ac = callSignal(c);
        const untrack = track(ac);
        // The first chunk is the JSON request; the rest is the archive's bytes.
        const chunks = c[Symbol.asyncIterator]();
        (async () => {
          const first = await chunks.next();
          if (first.done) throw new KukeonError('KUKEON_E_USAGE', `${verb}: no request`);
          const req = requestOf(verb, first.value as Buffer);
          const body = (async function* () {
            for (let n = await chunks.next(); !n.done; n = await chunks.next()) yield decodeBytes(n.value as Buffer);
          })();
          return call[verb](req, body, { signal: ac.signal });
        })()
          .then(
            (result) => done(null, encodeJson(result ?? null)),
            (err) => done(statusOf(err)),
          )
          .finally(untrack);
      };
    }
  }
  return handlers;
}

export function createKukeonServer(api: ControllerApi, log: Log): { server: grpc.Server; inflight: Set<AbortController> } {
  const server = new grpc.Server({
    'grpc.max_concurrent_streams': 1000,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  const inflight = new Set<AbortController>();
  server.addService(serviceDefinition(), kukeonHandlers(api, log, inflight));
  return { server, inflight };
}
