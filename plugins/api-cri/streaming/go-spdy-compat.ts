// client-go speaks SPDY through moby/spdystream, which differs from the browsers spdy-transport was written for:
// - its SYN_STREAMs carry only the caller's headers (`streamtype`, `port`, `requestid`), no `:method`/`:path`,
//   which spdy-transport's parser rejects as a protocol error;
// - it never sends WINDOW_UPDATE (spdystream has no flow control), so a sender that honours windows stalls once
//   a stream has sent its first 64 KiB.
// This adapts one server connection to such a peer. It reaches into spdy-transport's internals (pinned ^3.0.0).

import type { SpdyConnection, SpdyStream, SpdyWindowSide } from './spdy-types';

/** Makes `connection` accept spdystream's SYN_STREAMs and send without waiting for window updates. */
export function adaptToGoSpdyPeer(connection: SpdyConnection): void {
  const state = connection._spdyState;
  const parseKVs = state.parser.parseKVs;
  // The pseudo-headers are only checked, never used here: fill them in so the parser takes the frame.
  state.parser.parseKVs = function (this: unknown, buffer, callback) {
    parseKVs.call(this, buffer, (err, headers) => {
      if (!err && headers) {
        headers[':method'] ??= 'POST';
        headers[':path'] ??= '/';
      }
      callback(err, headers);
    });
  };
  unlimitSendWindow(state.window.send);
  // Before any other listener: a stream's first write must find its window unlimited.
  connection.prependListener('stream', (stream: SpdyStream) => {
    unlimitSendWindow((stream as unknown as { _spdyState: { window: { send: SpdyWindowSide } } })._spdyState.window.send);
  });
}

/** A send window that never runs out: TCP's own flow control is what holds a fast writer back. */
function unlimitSendWindow(side: SpdyWindowSide): void {
  side.update = (_size, callback) => {
    if (callback) process.nextTick(callback);
  };
  side.getCurrent = () => Number.POSITIVE_INFINITY;
}
