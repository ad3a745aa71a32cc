// What the CRI runtime needs of the streaming server (streaming/): a URL per Exec, Attach and PortForward request.

import type { CriMessage } from './cri-records';

export interface StreamingServer {
  readonly url: string;
  getExec(req: CriMessage): string;
  getAttach(req: CriMessage): string;
  getPortForward(req: CriMessage): string;
  close(): Promise<void>;
}
