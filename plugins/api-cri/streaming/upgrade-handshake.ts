// The HTTP half of a streaming connection, as apimachinery's httpstream.Handshake and the SPDY response upgrader
// decide it: pick the sub-protocol (the client's first that the server speaks), then check that the request asks
// to switch to SPDY/3.1.

import type { IncomingHttpHeaders } from 'node:http';

export const PROTOCOL_VERSION_HEADER = 'X-Stream-Protocol-Version';

/** The 101's headers, or the error response the client gets instead. */
export type UpgradeDecision =
  | { upgrade: true; protocol: string; headers: [string, string][] }
  | { upgrade: false; status: number; body: string; headers: [string, string][] };

export function decideUpgrade(request: IncomingHttpHeaders, serverProtocols: readonly string[]): UpgradeDecision {
  const clientProtocols = listValues(request['x-stream-protocol-version']);
  if (clientProtocols.length === 0) {
    return refuse(400, `unable to upgrade: ${PROTOCOL_VERSION_HEADER} is required`);
  }
  const protocol = clientProtocols.find((p) => serverProtocols.includes(p));
  if (!protocol) {
    return refuse(
      403,
      `unable to upgrade: unable to negotiate protocol: client supports [${clientProtocols.join(' ')}], server accepts [${serverProtocols.join(' ')}]`,
      serverProtocols.map((p) => ['X-Accepted-Stream-Protocol-Versions', p]),
    );
  }
  const connection = String(request.connection ?? '').toLowerCase();
  const upgrade = String(request.upgrade ?? '').toLowerCase();
  if (!connection.includes('upgrade') || !upgrade.includes('spdy/3.1')) {
    const sent = JSON.stringify({ Connection: request.connection ?? null, Upgrade: request.upgrade ?? null });
    return refuse(400, `unable to upgrade: missing upgrade headers in request: ${sent}`);
  }
  return {
    upgrade: true,
    protocol,
    headers: [
      ['Connection', 'Upgrade'],
      ['Upgrade', 'SPDY/3.1'],
      [PROTOCOL_VERSION_HEADER, protocol],
    ],
  };
}

/** Node joins repeated header lines with `, `; client-go sends one line per protocol. */
function listValues(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

function refuse(status: number, message: string, headers: [string, string][] = []): UpgradeDecision {
  return { upgrade: false, status, body: `${message}\n`, headers };
}
