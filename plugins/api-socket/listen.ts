// Binds the kukeon.v1 server to its unix socket with the permissions socket-file.ts describes, and closes it
// gracefully: stop accepting, let in-flight calls finish for a moment, then cancel the rest (their undo runs).

import * as grpc from '@grpc/grpc-js';
import type { ApiListenOptions, ControllerApi } from '../../sdk';
import { createKukeonServer } from './server';
import { claimSocket, groupId, prepareSocketDir, setSocketMode } from '../../sdk';

const CLOSE_GRACE_MS = 5_000;

export async function serveOnSocket(
  api: ControllerApi,
  options: ApiListenOptions,
  log: (format: string, ...args: unknown[]) => void,
): Promise<{ address: string; close(): Promise<void> }> {
  const gid = options.group ? groupId(options.group) : undefined;
  prepareSocketDir(options.socketPath, gid);
  await claimSocket(options.socketPath);
  const { server, inflight } = createKukeonServer(api, log);
  // Bound with no group or other bits at all; chmod then opens it to the group (the directory already guards it).
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${options.socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
  } finally {
    process.umask(umask);
  }
  setSocketMode(options.socketPath, gid);
  log('serving kukeon.v1 on %s', options.socketPath);
  let closed: Promise<void> | undefined;
  return {
    address: options.socketPath,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          for (const ac of inflight) ac.abort();
          server.forceShutdown();
          resolve();
        }, CLOSE_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      })),
  };
}
