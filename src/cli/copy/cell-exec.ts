// One script run in a cell's container for `kuke cp`: as root (docker cp is not limited by the container's
// user either), stdin fed from a byte stream when given, stdout handed on with backpressure, stderr kept for
// the error message.

import type { CallOptions, ControllerApi, ExecResult, Ref, SessionInput } from '../../../sdk';

/** Where `kuke cp` works: a cell, and its container when named (else the cell's single workload). */
export interface CellTarget {
  ref: Ref;
  container?: string;
}

export interface CellExecOutcome extends ExecResult {
  /** What the script and tar wrote to stderr (the first 64 KiB). */
  stderr: string;
}

const STDERR_LIMIT = 64 * 1024;

export interface CellExecIO {
  /** Bytes for the script's stdin; without them its stdin is empty and closed. */
  stdin?: AsyncIterable<Uint8Array>;
  /** Takes each stdout chunk; a returned promise holds the next back. */
  stdout(chunk: Uint8Array): void | Promise<void>;
}

async function* sessionInput(stdin: AsyncIterable<Uint8Array>): AsyncIterable<SessionInput> {
  for await (const chunk of stdin) yield { stdin: chunk };
  yield { eof: true };
}

export async function execInCell(
  api: ControllerApi,
  target: CellTarget,
  command: string[],
  io: CellExecIO,
  opts?: CallOptions,
): Promise<CellExecOutcome> {
  let stderr = '';
  let failed: { err: unknown } | undefined;
  // a failing consumer ends the session (the process is hung up) and is the error reported, not tar's broken pipe
  const stop = new AbortController();
  const fail = (err: unknown) => {
    failed ??= { err };
    stop.abort();
  };
  let result: ExecResult;
  try {
    result = await api.exec(
      { ref: target.ref, container: target.container, command, user: '0', stdin: io.stdin !== undefined },
      {
        input: io.stdin && sessionInput(io.stdin),
        output: (out) => {
          if (out.stream === 'stderr') {
            if (stderr.length < STDERR_LIMIT)
              stderr += Buffer.from(out.data)
                .toString('utf8')
                .slice(0, STDERR_LIMIT - stderr.length);
            return;
          }
          if (failed) return;
          try {
            const held = io.stdout(out.data);
            return held ? Promise.resolve(held).catch(fail) : undefined;
          } catch (err) {
            fail(err);
          }
        },
      },
      { ...opts, signal: opts?.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal },
    );
  } catch (err) {
    if (failed) throw failed.err;
    throw err;
  }
  if (failed) throw failed.err;
  return { ...result, stderr };
}
