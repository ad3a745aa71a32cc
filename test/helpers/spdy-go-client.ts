// A SPDY client that behaves on the wire as client-go's (moby/spdystream under remotecommand and portforward):
// it upgrades with one X-Stream-Protocol-Version line per protocol, opens streams whose SYN_STREAM carries only
// its own headers (no :method or :path), waits for each SYN_REPLY, sends no SETTINGS and no WINDOW_UPDATE,
// ignores the server's windows, and stops reading at a GOAWAY (every stream then reads its end).

import { request } from 'node:http';
import type { Socket } from 'node:net';
import { spdyTransport } from '../../plugins/api-cri/streaming/spdy-transport';
import type { SpdyConnection, SpdyStream } from '../../plugins/api-cri/streaming/spdy-types';

export interface GoSpdyClient {
  /** The protocol the server chose (its X-Stream-Protocol-Version). */
  protocol: string | undefined;
  connection: SpdyConnection;
  socket: Socket;
  /** Opens a stream and waits for its SYN_REPLY, as httpstream's CreateStream. */
  createStream(headers: Record<string, string>): Promise<SpdyStream>;
}

export interface Refusal {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Upgrades `url` to SPDY/3.1 offering `protocols`; the server's refusal when it does not switch. */
export function dialGoSpdy(url: string, protocols: string[], method = 'POST'): Promise<GoSpdyClient | Refusal> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols, 'Content-Length': '0' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      if (res.statusCode !== 101) return reject(new Error(`upgrade answered ${res.statusCode}`));
      if (head.length > 0) socket.unshift(head);
      const connection = spdyTransport.connection.create(socket, { protocol: 'spdy', isServer: false });
      behaveAsSpdystream(connection);
      connection.on('error', () => {});
      connection.start(3);
      const protocol = res.headers['x-stream-protocol-version'];
      resolve({
        protocol: Array.isArray(protocol) ? protocol[0] : protocol,
        connection,
        socket,
        createStream: (headers) =>
          new Promise((resolveStream, rejectStream) => {
            const stream = connection.request({ method: 'POST', path: '/', headers }, (err) => {
              if (err) rejectStream(err);
            });
            stream.on('error', () => {});
            unlimit((stream as unknown as Internal)._spdyState.window.send);
            const timer = setTimeout(() => rejectStream(new Error('no SYN_REPLY within 5 s')), 5000);
            stream.once('response', () => {
              clearTimeout(timer);
              resolveStream(stream);
            });
          }),
      });
    });
    req.end();
  });
}

export function isRefusal(r: GoSpdyClient | Refusal): r is Refusal {
  return 'status' in r;
}

/** Everything `stream` delivers until its FIN (or its reset). */
export function readAll(stream: SpdyStream): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const done = () => resolve(Buffer.concat(chunks));
    stream.once('end', done);
    stream.once('close', done);
  });
}

type Side = { update(size: number, cb?: () => void): void; getCurrent(): number };
type Internal = { _spdyState: { window: { send: Side } } };

function behaveAsSpdystream(connection: SpdyConnection): void {
  const state = connection._spdyState as unknown as {
    framer: Record<string, unknown> & { headersToDict: (h: unknown, p: unknown, cb: unknown) => void };
    window: { send: Side };
  };
  const headersToDict = state.framer.headersToDict;
  // No pseudo-headers in SYN_STREAM: spdystream sends the caller's headers only.
  state.framer.headersToDict = function (this: unknown, headers, _preprocess, callback) {
    headersToDict.call(this, headers, null, callback);
  };
  const frames = connection as unknown as { _handleFrame(frame: { type: string }): void };
  const handleFrame = frames._handleFrame;
  const streams = (connection._spdyState as unknown as { stream: { map: Record<string, SpdyStream> } }).stream.map;
  let goneAway = false;
  frames._handleFrame = function (this: unknown, frame) {
    if (goneAway) return;
    if (frame.type !== 'GOAWAY') return handleFrame.call(this, frame);
    goneAway = true;
    for (const stream of Object.values(streams)) stream.push(null);
  };
  state.framer.settingsFrame = () => {};
  state.framer.windowUpdateFrame = () => {};
  unlimit(state.window.send);
}

function unlimit(side: Side): void {
  side.update = (_size, cb) => {
    if (cb) process.nextTick(cb);
  };
  side.getCurrent = () => Number.POSITIVE_INFINITY;
}
