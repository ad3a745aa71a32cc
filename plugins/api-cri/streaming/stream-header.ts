// A SYN_STREAM header by name: spdystream writes names lowercase (`streamtype`, `requestid`), Go code names them
// `streamType` and `requestID`; match either way.

import type { SpdyStream } from './spdy-types';

export function streamHeader(stream: SpdyStream, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(stream.headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
