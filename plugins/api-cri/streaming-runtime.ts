// The streaming server (streaming/) bridged to the CRI runtime: Exec runs through kukeon's exec, Attach through
// its attach (the container's own stdio, owned by kukeond), PortForward connects to the pod's address.

import type { Duplex } from 'node:stream';
import type { CriRuntime } from './cri-runtime';
import { type StreamingServer, createStreamingServer } from './streaming';

export async function createCriStreaming(runtime: CriRuntime, address: string): Promise<StreamingServer> {
  return createStreamingServer(
    {
      exec: (req, io, signal) => runtime.streamExec(req.containerId, req.cmd, req.tty, req.stdin, io, signal),
      attach: (req, io, signal) => runtime.streamAttach(req.containerId, req.stdin, io, signal),
      portForward: async (podId: string, port: number, stream: Duplex, signal: AbortSignal) => {
        const socket = await runtime.streamPortForward(podId, port);
        await new Promise<void>((resolve, reject) => {
          const done = () => {
            socket.destroy();
            resolve();
          };
          signal.addEventListener('abort', done, { once: true });
          socket.once('error', (err) => {
            signal.removeEventListener('abort', done);
            reject(err);
          });
          socket.once('connect', () => {
            stream.pipe(socket);
            socket.pipe(stream);
          });
          socket.once('close', () => {
            signal.removeEventListener('abort', done);
            resolve();
          });
        });
      },
    },
    { address },
  );
}
