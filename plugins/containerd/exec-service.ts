// `runtime.exec`: `kuke exec`, as containerd's task exec. The process's spec is the container's own process (its
// cgroup, namespaces, seccomp profile, capabilities, user, environment) with the request's command, terminal,
// environment additions, user and working directory. Its stdio travels through FIFOs that this process owns for
// the length of the session; it is removed once it has exited, and it never outlives its session: an abort (the
// client went away) hangs it up, then kills it; a watcher process does the same when this process dies outright.

import crypto from 'node:crypto';
import path from 'node:path';
import type { Socket } from 'node:net';
import { KukeonError } from '../../sdk';
import type { ExecProcess, ExecResult, ExecService, PluginHost, SessionIO } from '../../sdk';
import type { CellRuntime } from './cell-runtime';
import { watchExec } from './exec-reaper';
import { FifoSet } from './fifo-set';
import { mergeEnv } from './oci-spec';
import { isNotFound } from './grpc/status-codes';
import { containerdId } from './naming';

/** How long a hung-up process has to exit before it is killed. */
const HANGUP_GRACE_MS = 2_000;
/** How long output may still arrive after the process exited (a background child may hold its stdout for ever). */
const DRAIN_MS = 2_000;

interface OciProcess {
  args?: string[];
  env?: string[];
  cwd?: string;
  terminal?: boolean;
  user?: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
  consoleSize?: { height: number; width: number };
  [key: string]: unknown;
}

/**
 * Docker's exit status for a process that could not be started: 127 when the program is not found, 126 for
 * anything else (not executable, a missing working directory, ...).
 */
export function startFailureStatus(message: string, program: string): number {
  if (/executable file not found/i.test(message)) return 127;
  return /no such file or directory/i.test(message) && message.includes(`"${program}"`) ? 127 : 126;
}

/** When output last moved, and whether a consumer is holding it back: the drain after the exit waits for both. */
interface Flow {
  lastData: number;
  held: number;
}

/** Reads `sock` into `io.output` as `stream`, holding the socket while the consumer is busy. */
function pump(sock: Socket | undefined, stream: 'stdout' | 'stderr', io: SessionIO, flow: Flow): Promise<void> {
  if (!sock) return Promise.resolve();
  return new Promise<void>((resolve) => {
    sock.on('data', (data: Buffer) => {
      flow.lastData = Date.now();
      const held = io.output({ stream, data });
      if (held && typeof (held as Promise<void>).then === 'function') {
        sock.pause();
        flow.held++;
        (held as Promise<void>).then(
          () => {
            flow.held--;
            flow.lastData = Date.now();
            sock.resume();
          },
          () => {
            flow.held--;
            sock.destroy();
          },
        );
      }
    });
    sock.once('end', resolve);
    sock.once('close', resolve);
    sock.once('error', () => resolve());
  });
}

/**
 * After the exit: the output until its end-of-file, or until nothing came for DRAIN_MS while no consumer held it
 * back (a background child may keep the process's stdout open for ever; a slow reader must not lose the tail).
 */
async function drain(output: Promise<unknown>, flow: Flow): Promise<void> {
  let ended = false;
  void output.then(() => {
    ended = true;
  });
  while (!ended && (flow.held > 0 || Date.now() - flow.lastData < DRAIN_MS)) {
    await Promise.race([output, new Promise((r) => setTimeout(r, 100).unref())]);
  }
}

/** Writes the client's input into the process: stdin bytes, its end, and terminal sizes. */
async function feed(
  io: SessionIO,
  stdin: Socket | undefined,
  tty: boolean,
  resize: (cols: number, rows: number) => Promise<void>,
  closeStdin: (sock: Socket | undefined) => Promise<void>,
  stopped: () => boolean,
): Promise<void> {
  if (!io.input) return;
  for await (const input of io.input) {
    if (stopped()) break;
    if ('stdin' in input) {
      if (stdin && !stdin.destroyed && !stdin.write(input.stdin))
        await new Promise<void>((resolve) => {
          const done = () => {
            stdin.off('drain', done);
            stdin.off('close', done);
            resolve();
          };
          stdin.once('drain', done);
          stdin.once('close', done);
        });
    } else if ('resize' in input) {
      if (tty) await resize(input.resize.cols, input.resize.rows).catch(() => undefined);
    } else if ('eof' in input && !tty) {
      // a terminal's end is the user's ^D, sent as a byte: closing it would take the console away
      await closeStdin(stdin);
    }
  }
}

/**
 * Ends the process's stdin without losing what is still in the FIFO: the shim holds a writer of its own (so a
 * client may come and go), so our close alone is no end-of-file; once ours is closed, CloseIO closes the shim's,
 * and its reader sees the end after the last byte.
 */
async function closeWhenFlushed(sock: Socket | undefined, closeIO: () => Promise<void>): Promise<void> {
  if (sock && !sock.destroyed) {
    // an empty write's callback runs once every earlier write reached the FIFO ('drain' comes only after a
    // write that returned false, so waiting for it after one that returned true could wait for ever)
    await new Promise<void>((resolve) => {
      sock.once('close', () => resolve());
      sock.write(Buffer.alloc(0), () => resolve());
    });
    sock.destroy();
  }
  await closeIO().catch(() => undefined);
}

export function execService(host: PluginHost, rt: CellRuntime): ExecService {
  return {
    async exec(cellPath, container, proc: ExecProcess, io: SessionIO, signal?: AbortSignal): Promise<ExecResult> {
      const ns = await rt.namespaceOfRealm(cellPath[0]);
      const id = containerdId(cellPath, container);
      const where = `cell ${cellPath.join('/')} container ${container}`;
      const task = await rt.task(ns, id);
      if (task?.status !== 'RUNNING')
        throw new KukeonError(
          'KUKEON_E_STATE',
          `${where} is not running${task ? ` (${task.status.toLowerCase()})` : ''}; start the cell first`,
          {
            plugin: 'containerd',
          },
        );
      let record: Awaited<ReturnType<typeof rt.client.containers.get>>;
      try {
        record = await rt.client.containers.get(ns, id);
      } catch (err) {
        throw isNotFound(err) ? new KukeonError('KUKEON_E_STATE', `${where} has no container in containerd`) : rt.explain(err);
      }
      const spec = JSON.parse(Buffer.from(record.spec?.value ?? '{}').toString('utf8')) as { process?: OciProcess };
      const tty = proc.tty === true;
      const process: OciProcess = {
        ...spec.process,
        args: proc.command,
        terminal: tty,
        env: mergeEnv(spec.process?.env, proc.env),
        cwd: proc.workdir ?? spec.process?.cwd ?? '/',
      };
      if (proc.user !== undefined) process.user = { ...(await rt.resolveUser(ns, record.image, proc.user, 'user')) };
      if (tty && proc.size) process.consoleSize = { height: proc.size.rows, width: proc.size.cols };
      else delete process.consoleSize;

      const execId = `exec-${crypto.randomBytes(6).toString('hex')}`;
      const streams = tty
        ? (['stdin', 'stdout'] as const)
        : proc.stdin
          ? (['stdin', 'stdout', 'stderr'] as const)
          : (['stdout', 'stderr'] as const);
      const fifos = FifoSet.create(path.join(host.paths.runtimeDir, 'containerd', 'io', ns), streams);
      const stdin = fifos.writer();
      let done = false;
      let watcher: { release(ended: boolean): void } | undefined;
      let ended = false;
      try {
        await rt.client.tasks.exec(ns, {
          container_id: id,
          exec_id: execId,
          stdin: fifos.paths.stdin,
          stdout: fifos.paths.stdout,
          stderr: fifos.paths.stderr,
          terminal: tty,
          process,
        });
        watcher = watchExec(rt.socket, ns, id, execId, fifos.dir);
        const exited = rt.client.tasks.wait(ns, id, execId);
        exited.catch(() => undefined);
        try {
          await rt.client.tasks.start(ns, id, execId);
        } catch (err) {
          const message = (err as { details?: string }).details ?? (err as Error).message;
          ended = true; // never started
          await io.output({ stream: 'stderr', data: Buffer.from(`kuke exec: ${message}\n`) });
          return { exitCode: startFailureStatus(message, proc.command[0]) };
        }
        const resize = (cols: number, rows: number) => rt.client.tasks.resizePty(ns, id, execId, { width: cols, height: rows });
        if (tty && proc.size) await resize(proc.size.cols, proc.size.rows).catch(() => undefined);
        const flow: Flow = { lastData: Date.now(), held: 0 };
        const output = Promise.all([pump(fifos.reader('stdout'), 'stdout', io, flow), pump(fifos.reader('stderr'), 'stderr', io, flow)]);
        const closeStdin = (sock: Socket | undefined) => closeWhenFlushed(sock, () => rt.client.tasks.closeStdin(ns, id, execId));
        const fed = feed(io, stdin, tty, resize, closeStdin, () => done).catch(() => undefined);
        const hangUp = () => {
          rt.client.tasks.kill(ns, id, 'SIGHUP', { exec_id: execId }).catch(() => undefined);
          setTimeout(() => {
            if (!done) rt.client.tasks.kill(ns, id, 'SIGKILL', { exec_id: execId }).catch(() => undefined);
          }, HANGUP_GRACE_MS).unref();
        };
        if (signal?.aborted) hangUp();
        else signal?.addEventListener('abort', hangUp, { once: true });
        const status = await exited.catch((err) => Promise.reject(rt.explain(err)));
        ended = true;
        done = true;
        signal?.removeEventListener('abort', hangUp);
        flow.lastData = Math.max(flow.lastData, Date.now());
        await drain(output, flow);
        void fed;
        return { exitCode: status.exit_status };
      } finally {
        done = true;
        fifos.close();
        await rt.client.tasks.deleteProcess(ns, id, execId).catch(() => undefined);
        // without a seen exit (containerd went away meanwhile) the watcher hangs the process up and removes it
        watcher?.release(ended);
      }
    },
  };
}
