// The server side of a session rpc (Exec, Attach): the client's first Frame is the request, its later frames become
// the SessionIO's input, the process's output leaves as frames with backpressure, and the result is the last frame.
// A cancelled stream (Ctrl-C, a detach, a kuke that was killed) aborts the call's signal: the runtime then hangs up
// and kills an exec'd process, or detaches an attach; nothing outlives its session.

import type * as grpc from '@grpc/grpc-js';
import { KukeonError } from '../../sdk';
import type { SessionInput, SessionIO, SessionOutput } from '../../sdk';
import { callSignal, statusOf } from './call-status';
import { decodeFrame, encodeFrame, STDERR, STDIN, STDOUT } from './frame';
import type { Frame } from './frame';
import { checkRequestShape } from './request-shape';
import type { Verb } from './wire';

/** Output leaves in frames of at most this many bytes, whatever amount a runtime hands over at once. */
const MAX_FRAME_DATA = 64 * 1024;

type SessionCall = (req: unknown, io: SessionIO, opts: { signal: AbortSignal }) => unknown;
type Log = (format: string, ...args: unknown[]) => void;

const usage = (verb: Verb, why: string) => new KukeonError('KUKEON_E_USAGE', `${verb}: ${why}`);

function decode(verb: Verb, buf: Buffer): Frame {
  try {
    return decodeFrame(buf);
  } catch (err) {
    throw usage(verb, `a message that is not a kukeon.v1 Frame (${(err as Error).message})`);
  }
}

const isDimension = (n: unknown) => Number.isInteger(n) && (n as number) > 0 && (n as number) <= 0xffff;

/** What a client's frame after the request asks for, in order: stdin bytes, then a control. */
function inputsOf(verb: Verb, frame: Frame): SessionInput[] {
  const inputs: SessionInput[] = [];
  if (frame.data?.length) {
    if (frame.stream !== STDIN) throw usage(verb, `a client sends stdin only (stream 0), not stream ${frame.stream}`);
    inputs.push({ stdin: frame.data });
  }
  if (frame.json !== undefined) {
    const c = frame.json as { eof?: unknown; resize?: { cols?: unknown; rows?: unknown } };
    if (c?.eof === true) inputs.push({ eof: true });
    else if (c?.resize && isDimension(c.resize.cols) && isDimension(c.resize.rows))
      inputs.push({ resize: { cols: c.resize.cols as number, rows: c.resize.rows as number } });
    else
      throw usage(
        verb,
        `a control frame is {"eof": true} or {"resize": {"cols", "rows"}} (1..65535), not ${JSON.stringify(frame.json).slice(0, 100)}`,
      );
  }
  return inputs;
}

/** Resolves when the stream can take more (or will take nothing more). */
function drained(c: grpc.ServerDuplexStream<Buffer, Buffer>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      c.off('drain', done);
      c.off('cancelled', done);
      c.off('close', done);
      resolve();
    };
    c.on('drain', done);
    c.on('cancelled', done);
    c.on('close', done);
  });
}

export function serveSession(
  verb: Verb,
  api: SessionCall,
  log: Log,
  track: (ac: AbortController) => () => void,
): grpc.handleBidiStreamingCall<Buffer, Buffer> {
  return (c) => {
    const ac = callSignal(c);
    const untrack = track(ac);
    // Not destroyed when the client ends its side: that only means no more input, and the output goes on.
    const frames = c.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let finished = false;
    /** The client's first bad frame: the call fails with it (the signal stops the runtime). */
    let inputError: KukeonError | undefined;

    async function* input(): AsyncIterable<SessionInput> {
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await frames.next();
        } catch {
          return; // the stream was cancelled: the call's signal tells the runtime
        }
        if (next.done || finished) return;
        try {
          yield* inputsOf(verb, decode(verb, next.value));
        } catch (err) {
          inputError ??= err as KukeonError;
          ac.abort(err);
          return;
        }
      }
    }

    // Writes keep the order of the runtime's calls, even when it does not await one before the next.
    let written: Promise<void> = Promise.resolve();
    const writeOutput = async (out: SessionOutput) => {
      const stream = out.stream === 'stderr' ? STDERR : STDOUT;
      for (let i = 0; i < out.data.length; i += MAX_FRAME_DATA) {
        if (finished || c.cancelled || c.destroyed) return; // the client is gone: the signal stops the runtime
        // backpressure: a client that reads slowly (a paused terminal, `| less`) holds the process's output back
        if (!c.write(encodeFrame({ data: out.data.subarray(i, i + MAX_FRAME_DATA), stream }))) await drained(c);
      }
    };
    const io: SessionIO = {
      input: input(),
      output: (out) => {
        written = written.then(() => writeOutput(out));
        return written;
      },
    };

    (async () => {
      const first = await frames.next().catch(() => ({ done: true as const, value: undefined }));
      if (first.done) throw ac.signal.aborted ? ac.signal.reason : usage(verb, 'no request (the first frame carries it)');
      const frame = decode(verb, first.value);
      if (frame.json === undefined || frame.data !== undefined)
        throw usage(verb, 'the first frame carries the request in `json`, and no data');
      checkRequestShape(verb, frame.json);
      const result = await api(frame.json ?? {}, io, { signal: ac.signal });
      await written;
      if (inputError) throw inputError;
      return result;
    })()
      .then(
        (result) => {
          finished = true;
          if (c.cancelled) return;
          c.write(encodeFrame({ json: { result: result ?? null } }));
          c.end();
        },
        (err) => {
          finished = true;
          if (c.cancelled) return;
          log('%s failed: %s', verb, (inputError ?? (err as Error))?.message);
          c.emit('error', statusOf(inputError ?? err));
        },
      )
      .finally(untrack);
  };
}
