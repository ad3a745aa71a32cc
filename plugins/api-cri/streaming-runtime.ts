// Placeholder until the SPDY streaming server lands: no streaming server, so Exec, Attach and PortForward answer
// UNIMPLEMENTED (ExecSync works).

import type { CriRuntime } from './cri-runtime';
import type { StreamingServer } from './streaming-bridge';

export async function createCriStreaming(_runtime: CriRuntime, _address: string): Promise<StreamingServer | undefined> {
  return undefined;
}
