// The watcher of one exec'd process, so that it never outlives its session even when the process that owns the
// session (kuke in-process, or kukeond) is killed outright and runs no cleanup: a small detached process that
// reads a pipe from its owner. `done` on the pipe: the session ended as it should. The pipe's end without it: the
// owner died, so the exec'd process is hung up, killed after a grace, and removed, as the owner would have done.
//
// Run as: node exec-reaper.js <containerd socket> <namespace> <container id> <exec id> <FIFO dir>

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { isNotFound } from './grpc/status-codes';

const GRACE_MS = 2_000;

/** Starts the watcher; `release(true)` when the session saw the process end, `release(false)` to have it reaped. */
export function watchExec(
  socket: string,
  ns: string,
  containerId: string,
  execId: string,
  fifoDir: string,
): { release(ended: boolean): void } {
  const child = spawn(process.execPath, [__filename, socket, ns, containerId, execId, fifoDir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => undefined);
  child.unref();
  const pipe = child.stdin as Writable & { unref?: () => void };
  pipe.on('error', () => undefined);
  pipe.unref?.();
  return { release: (ended) => void pipe.end(ended ? 'done\n' : '') };
}

async function reap(socket: string, ns: string, containerId: string, execId: string, fifoDir: string): Promise<void> {
  // loaded here only: importing this module (the plugin does) must not load the gRPC stack
  const { ContainerdClient } = require('./grpc/containerd-client') as typeof import('./grpc/containerd-client');
  const client = new ContainerdClient(socket, { timeoutMs: 10_000 });
  const gone = (err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err));
  try {
    await client.tasks.kill(ns, containerId, 'SIGHUP', { exec_id: execId }).catch(gone);
    const exited = client.tasks.wait(ns, containerId, execId, { timeoutMs: GRACE_MS }).catch(() => undefined);
    if (!(await exited)) await client.tasks.kill(ns, containerId, 'SIGKILL', { exec_id: execId }).catch(gone);
    await client.tasks.wait(ns, containerId, execId, { timeoutMs: GRACE_MS }).catch(() => undefined);
    await client.tasks.deleteProcess(ns, containerId, execId).catch(() => undefined);
  } finally {
    client.close();
    fs.rmSync(fifoDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [socket, ns, containerId, execId, fifoDir] = process.argv.slice(2);
  let said = '';
  process.stdin.on('data', (d) => {
    said += d.toString();
  });
  process.stdin.on('error', () => undefined);
  process.stdin.once('close', () => {
    if (said.includes('done')) process.exit(0);
    reap(socket, ns, containerId, execId, fifoDir).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
