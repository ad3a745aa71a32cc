// One exec or attach over an upgraded connection, as the kubelet's remotecommand server runs it: wait for the
// streams the request implies (error, stdin, stdout, stderr, resize), run the command with them, write how it
// ended on the error stream, then close everything.

import type { Duplex } from 'node:stream';
import type { SessionIO, SessionInput } from '../../../sdk';
import { acceptSpdyConnection } from './accept-spdy-connection';
import { InputQueue } from './input-queue';
import { encodeRemoteCommandOutcome, type RemoteCommandOutcome } from './remote-command-status';
import { ResizeDecoder } from './resize-decoder';
import type { SpdyStream } from './spdy-types';
import { streamHeader } from './stream-header';
import { canWrite, endStream, writeWithBackpressure } from './stream-writer';

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';
const STREAM_TYPES: readonly string[] = ['error', 'stdin', 'stdout', 'stderr', 'resize'];
/** Protocols before v3 have no resize stream. */
const WITHOUT_RESIZE = new Set(['v2.channel.k8s.io', 'channel.k8s.io']);
/** After the outcome is sent the client closes the connection; one that does not is cut off after this. */
const CLOSE_GRACE_MS = 10_000;

export interface RemoteCommandSession {
  socket: Duplex;
  head: Buffer;
  /** The negotiated sub-protocol (`v4.channel.k8s.io` ...). */
  protocol: string;
  /** What the CRI request asked for: which streams the client opens. */
  streams: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean };
  streamCreationTimeoutMs: number;
  /** Runs the command; `signal` aborts when the client goes away. */
  run(io: SessionIO, signal: AbortSignal): Promise<RemoteCommandOutcome>;
}

/** Serves the session; settles when the connection has closed (it never rejects). */
export function serveRemoteCommand(session: RemoteCommandSession): Promise<void> {
  const { socket, protocol } = session;
  const tty = session.streams.tty;
  const expected: StreamType[] = ['error'];
  if (session.streams.stdin) expected.push('stdin');
  if (session.streams.stdout) expected.push('stdout');
  // With a terminal the client opens no stderr stream: the terminal merges it into stdout.
  if (session.streams.stderr && !tty) expected.push('stderr');
  if (tty && !WITHOUT_RESIZE.has(protocol)) expected.push('resize');

  const streams: Partial<Record<StreamType, SpdyStream>> = {};
  const controller = new AbortController();
  let input: InputQueue<SessionInput> | undefined;
  let started = false;
  let finished = false;

  return new Promise<void>((resolve) => {
    const creationTimer = setTimeout(() => {
      // As the kubelet: a client that did not open its streams in time gets the connection closed.
      socket.destroy();
    }, session.streamCreationTimeoutMs);
    socket.once('close', () => {
      clearTimeout(creationTimer);
      // The client left while the command runs (after it, the signal stays as it was).
      if (!finished) controller.abort();
      input?.end();
      resolve();
    });

    acceptSpdyConnection(socket, session.head, (stream) => {
      const type = streamHeader(stream, 'streamType') ?? '';
      if (!STREAM_TYPES.includes(type) || streams[type as StreamType] || (type === 'resize' && WITHOUT_RESIZE.has(protocol))) {
        // The kubelet logs an unexpected stream and leaves it be.
        stream.resume();
        return;
      }
      streams[type as StreamType] = stream;
      if (started || !expected.every((t) => streams[t])) return;
      started = true;
      clearTimeout(creationTimer);
      void run();
    });

    const run = async (): Promise<void> => {
      // What the client might send on the streams that only carry output is read and dropped.
      for (const t of ['error', 'stdout', 'stderr'] as const) streams[t]?.resume();
      input = openInput(streams.stdin, streams.resize);
      const io: SessionIO = {
        output: ({ stream, data }) => {
          const target = tty || stream === 'stdout' ? streams.stdout : streams.stderr;
          return target ? writeWithBackpressure(target, data) : undefined;
        },
      };
      if (input) io.input = input;
      let outcome: RemoteCommandOutcome;
      try {
        outcome = await session.run(io, controller.signal);
      } catch (err) {
        outcome = { kind: 'internal', message: err instanceof Error ? err.message : String(err) };
      }
      finished = true;
      input?.end();
      if (controller.signal.aborted) return;
      const status = encodeRemoteCommandOutcome(protocol, outcome);
      if (status && streams.error && canWrite(streams.error)) streams.error.write(status);
      for (const stream of Object.values(streams)) endStream(stream);
      // No GOAWAY: spdy-transport sends control frames ahead of queued DATA frames, and spdystream stops reading
      // at a GOAWAY, so the status could be lost. The client closes the connection once it has read the FINs.
      const cutOff = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      cutOff.unref();
      socket.once('close', () => clearTimeout(cutOff));
    };
  });
}

/** The client's stdin (then its end) and resizes, as one input; undefined when the client sends neither. */
function openInput(stdin: SpdyStream | undefined, resize: SpdyStream | undefined): InputQueue<SessionInput> | undefined {
  if (!stdin && !resize) return undefined;
  const queue = new InputQueue<SessionInput>();
  let open = 0;
  const onceDone = (then: () => void) => {
    open++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      then();
      if (--open === 0) queue.end();
    };
  };
  if (stdin) {
    // A reset stdin ends as a closed one would: the process sees its end either way.
    const ended = onceDone(() => queue.push({ eof: true }));
    stdin.on('data', (chunk: Buffer) => {
      if (!queue.push({ stdin: chunk })) stdin.pause();
    });
    queue.onDrain(() => stdin.resume());
    stdin.once('end', ended);
    stdin.once('close', ended);
  }
  if (resize) {
    const ended = onceDone(() => {});
    const decoder = new ResizeDecoder();
    const onData = (chunk: Buffer) => {
      try {
        for (const size of decoder.push(chunk)) queue.push({ resize: size });
      } catch {
        // As the kubelet: a malformed message ends resize handling, the session goes on.
        resize.off('data', onData);
        resize.resume();
      }
    };
    resize.on('data', onData);
    resize.once('end', ended);
    resize.once('close', ended);
  }
  return queue;
}
