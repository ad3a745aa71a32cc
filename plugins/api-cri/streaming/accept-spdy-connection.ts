// The SPDY side of an upgraded socket, as spdystream's server runs it: every stream the client opens gets its
// SYN_REPLY at once (client-go waits for it before creating the next one), then goes to `onStream`.

import type { Duplex } from 'node:stream';
import { adaptToGoSpdyPeer } from './go-spdy-compat';
import { spdyTransport } from './spdy-transport';
import type { SpdyConnection, SpdyStream } from './spdy-types';

/** Starts SPDY/3.1 on `socket` (`head`: bytes that came with the upgrade request). */
export function acceptSpdyConnection(socket: Duplex, head: Buffer, onStream: (stream: SpdyStream) => void): SpdyConnection {
  if (head.length > 0) socket.unshift(head);
  const connection = spdyTransport.connection.create(socket, { protocol: 'spdy', isServer: true, headerCompression: true });
  adaptToGoSpdyPeer(connection);
  // A protocol error or a reset socket ends the connection; the session sees it as the socket's 'close'.
  connection.on('error', () => socket.destroy());
  connection.on('stream', (stream) => {
    // Errors surface as 'close' too (a reset stream, a GOAWAY); without a listener they would throw.
    stream.on('error', () => {});
    stream.respond(200, {});
    onStream(stream);
  });
  return connection;
}
