// `kuke cp CELL:PATH LOCAL|-`: the container's tar of the path, unpacked here by docker cp's rules, or written
// to stdout as it is.

import { type CallOptions, type ControllerApi, KukeonError, formatRef } from '../../../sdk';
import { type CellTarget, execInCell } from './cell-exec';
import { cellScriptError } from './cell-errors';
import { packCommand } from './cell-scripts';
import type { CopyPath } from './copy-path';
import { localDestination } from './local-destination';
import { LocalExtract } from './local-extract';
import { TarEndWatch } from './tar-end';

function incomplete(target: CellTarget, src: CopyPath): KukeonError {
  return new KukeonError(
    'KUKEON_E_COPY',
    `${formatRef(target.ref)}:${src.given}: the archive from the container ended before its end; the copy is incomplete`,
  );
}

/** Where the bytes go: a local path, or a tar stream (stdout). */
export type CopySink = { kind: 'local'; path: CopyPath } | { kind: 'stream'; write(chunk: Uint8Array): void | Promise<void> };

export interface CopyFromCellResult {
  /** Entries the container sent outside the copied path, dropped. */
  dropped: number;
  /** Device nodes and FIFOs in the copy, not made here. */
  unsupported: string[];
}

export async function copyFromCell(
  api: ControllerApi,
  target: CellTarget,
  src: CopyPath,
  sink: CopySink,
  opts: { follow?: boolean; call?: CallOptions } = {},
): Promise<CopyFromCellResult> {
  const command = packCommand({ ...src, follow: opts.follow ?? false });
  if (sink.kind === 'stream') {
    const end = new TarEndWatch();
    const outcome = await execInCell(
      api,
      target,
      command,
      {
        stdout: (chunk) => {
          end.write(chunk);
          return sink.write(chunk);
        },
      },
      opts.call,
    );
    if (outcome.exitCode !== 0) throw await cellScriptError(api, target, outcome, src.given);
    if (!end.complete) throw incomplete(target, src);
    return { dropped: 0, unsupported: [] };
  }
  const dest = localDestination(sink.path);
  // into an existing directory under the name the user wrote (a followed link's own name, not its target's)
  if (dest.kind === 'dir' && !src.contents) dest.rename = src.base;
  const stop = new AbortController();
  const extract = new LocalExtract(dest, () => stop.abort());
  const signal = opts.call?.signal ? AbortSignal.any([opts.call.signal, stop.signal]) : stop.signal;
  let outcome: Awaited<ReturnType<typeof execInCell>>;
  try {
    outcome = await execInCell(api, target, command, { stdout: (chunk) => extract.write(chunk) }, { ...opts.call, signal });
  } catch (err) {
    if (extract.failure) throw extract.failure;
    throw err;
  } finally {
    if (extract.failure) await extract.end().catch(() => undefined);
  }
  if (extract.failure) throw extract.failure;
  if (outcome.exitCode !== 0) {
    await extract.end().catch(() => undefined);
    throw await cellScriptError(api, target, outcome, src.given);
  }
  await extract.end();
  if (!extract.complete) throw incomplete(target, src);
  return { dropped: extract.droppedEntries, unsupported: extract.unsupported };
}
