// A plain HTTP/1.1 response written straight to a socket: the upgrade path has no ServerResponse, and both the
// 101 that switches to SPDY and a refusal (404 for an unknown token) are written this way.

import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

/** Writes the status line, `headers` and `body` (a refusal then closes the connection). */
export function writeHttpReply(socket: Duplex, status: number, headers: [string, string][], body?: string): void {
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, `Date: ${new Date().toUTCString()}`];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (body !== undefined) {
    lines.push('Content-Type: text/plain; charset=utf-8', 'X-Content-Type-Options: nosniff');
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close');
  }
  socket.write(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
  if (body !== undefined) socket.end();
}
