// Port forwarding over an upgraded connection (portforward.k8s.io), as the kubelet serves it: for each forwarded
// connection the client opens an error stream and a data stream with the same `requestID` and the pod's `port`;
// once both are there the data stream is connected to the port, and a failure is written on the error stream.
// The connection carries any number of such pairs until the client closes it.

import type { Duplex } from 'node:stream';
import { acceptSpdyConnection } from './accept-spdy-connection';
import type { SpdyStream } from './spdy-types';
import { streamHeader } from './stream-header';
import { canWrite, endStream } from './stream-writer';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

export interface PortForwardSession {
  socket: Duplex;
  head: Buffer;
  podSandboxId: string;
  streamCreationTimeoutMs: number;
  /** Connects `stream` to `port` in the pod; `signal` aborts when the client goes away. */
  forward(port: number, stream: Duplex, signal: AbortSignal): Promise<void>;
}

interface StreamPair {
  requestId: string;
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Serves the connection; settles when the client has closed it (it never rejects). */
export function servePortForward(session: PortForwardSession): Promise<void> {
  const { socket } = session;
  const controller = new AbortController();
  const pairs = new Map<string, StreamPair>();

  const removePair = (pair: StreamPair) => {
    clearTimeout(pair.timer);
    if (pairs.get(pair.requestId) === pair) pairs.delete(pair.requestId);
  };
  const printError = (pair: StreamPair, message: string) => {
    if (pair.error && canWrite(pair.error)) pair.error.write(message);
  };

  const forwardPair = async (pair: StreamPair & { error: SpdyStream; data: SpdyStream }) => {
    removePair(pair);
    const portText = streamHeader(pair.data, 'port') ?? '';
    const port = Number(portText);
    // This pair ends when the client leaves or resets its data stream.
    const pairController = new AbortController();
    const abortPair = () => pairController.abort();
    controller.signal.addEventListener('abort', abortPair, { once: true });
    pair.data.once('close', abortPair);
    try {
      if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new Error(`invalid port ${JSON.stringify(portText)}`);
      await session.forward(port, pair.data as unknown as Duplex, pairController.signal);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      printError(pair, `error forwarding port ${portText} to pod ${session.podSandboxId}, uid : ${reason}`);
    }
    controller.signal.removeEventListener('abort', abortPair);
    endStream(pair.data);
    endStream(pair.error);
  };

  const onStream = (stream: SpdyStream) => {
    const type = streamHeader(stream, 'streamType') ?? '';
    const requestId = streamHeader(stream, 'requestID') ?? legacyRequestId(stream, type);
    let pair = pairs.get(requestId);
    if (!pair) {
      const created: StreamPair = {
        requestId,
        timer: setTimeout(() => {
          printError(created, `(request=${requestId}) timed out waiting for streams`);
          endStream(created.error);
          created.data?.destroy();
          removePair(created);
        }, session.streamCreationTimeoutMs),
      };
      pair = created;
      pairs.set(requestId, pair);
    }
    let problem: string | undefined;
    if (type === 'error') {
      if (pair.error) problem = 'error stream already assigned';
      else {
        pair.error = stream;
        // The client half-closes the error stream at once and never writes to it.
        stream.resume();
      }
    } else if (type === 'data') {
      if (pair.data) problem = 'data stream already assigned';
      else pair.data = stream;
    } else problem = `unknown stream type ${JSON.stringify(type)}`;
    if (problem) {
      printError(pair, `error processing stream for request ${requestId}: ${problem}`);
      stream.destroy();
      return;
    }
    if (pair.error && pair.data) void forwardPair(pair as StreamPair & { error: SpdyStream; data: SpdyStream });
  };

  return new Promise<void>((resolve) => {
    acceptSpdyConnection(socket, session.head, onStream);
    socket.once('close', () => {
      controller.abort();
      for (const pair of pairs.values()) clearTimeout(pair.timer);
      pairs.clear();
      resolve();
    });
  });
}

/**
 * Clients before the requestID header: each connection's error and data streams come as consecutive odd ids,
 * error first, so both map to the error stream's id (the kubelet's best effort).
 */
function legacyRequestId(stream: SpdyStream, type: string): string {
  return String(type === 'data' ? stream.id - 2 : stream.id);
}
