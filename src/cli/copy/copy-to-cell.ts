// `kuke cp LOCAL|- CELL:PATH`: what the destination is in the container (one exec), then the local path packed
// here and unpacked by the container's tar where docker cp's rules put it (a second exec). A tar on stdin goes
// as it is into a directory, as docker cp's `-`.

import { type CallOptions, type ControllerApi, KukeonError, formatRef, isKukeonError } from '../../../sdk';
import { type CellTarget, execInCell } from './cell-exec';
import { cellScriptError } from './cell-errors';
import { statCommand, unpackCommand } from './cell-scripts';
import type { CopyPath } from './copy-path';
import { destinationConflict } from './local-destination';
import { localSource, packLocal } from './local-source';

/** Where the bytes come from: a local path, or a tar stream (stdin). */
export type CopySource = { kind: 'local'; path: CopyPath } | { kind: 'stream'; read: AsyncIterable<Uint8Array> };

type CellDestinationKind = 'dir' | 'file' | 'none' | 'no-parent';

async function cellDestination(api: ControllerApi, target: CellTarget, dst: CopyPath, call?: CallOptions): Promise<CellDestinationKind> {
  let out = '';
  const outcome = await execInCell(
    api,
    target,
    statCommand(dst.clean, dst.dir),
    { stdout: (c) => void (out.length < 256 && (out += Buffer.from(c).toString('utf8'))) },
    call,
  );
  if (outcome.exitCode !== 0) throw await cellScriptError(api, target, outcome, dst.given);
  const kind = out.trim();
  if (!['dir', 'file', 'none', 'no-parent'].includes(kind))
    throw new KukeonError(
      'KUKEON_E_COPY',
      `${formatRef(target.ref)}:${dst.given}: the container answered "${kind.slice(0, 80)}" about the destination`,
    );
  return kind as CellDestinationKind;
}

export async function copyToCell(
  api: ControllerApi,
  target: CellTarget,
  source: CopySource,
  dst: CopyPath,
  opts: { follow?: boolean; call?: CallOptions } = {},
): Promise<void> {
  const where = `${formatRef(target.ref)}:${dst.given}`;
  // the local side first: a missing source fails before the container is asked anything
  const local = source.kind === 'local' ? localSource(source.path, opts.follow ?? false) : undefined;
  const kind = await cellDestination(api, target, dst, opts.call);
  if (kind === 'no-parent') throw new KukeonError('KUKEON_E_NOT_FOUND', `${where}: no such directory ${dst.dir} in the container`);
  if (kind === 'file' && dst.assertDir) throw new KukeonError('KUKEON_E_COPY', `${where}: not a directory in the container`);
  let input: AsyncIterable<Uint8Array>;
  let into: string;
  let packError: unknown;
  if (!local) {
    if (kind !== 'dir')
      throw new KukeonError('KUKEON_E_COPY', `${where}: a tar stream from stdin (-) is unpacked into a directory, and this is not one`);
    input = (source as { read: AsyncIterable<Uint8Array> }).read;
    into = dst.clean;
  } else {
    const conflict = destinationConflict({ kind, path: dst }, local.isDir);
    if (conflict) throw new KukeonError(conflict.code, `${formatRef(target.ref)}: ${conflict.message}`);
    into = kind === 'dir' ? dst.clean : dst.dir;
    const packed = packLocal(local, kind === 'dir' ? undefined : dst.base);
    // a read error ends the stream (the container's tar then fails on a short archive); it is the one reported
    input = (async function* () {
      try {
        yield* packed;
      } catch (err) {
        packError = err;
      }
    })();
  }
  const outcome = await execInCell(api, target, unpackCommand(into), { stdin: input, stdout: () => undefined }, opts.call);
  if (packError)
    throw isKukeonError(packError) ? packError : new KukeonError('KUKEON_E_COPY', `${local?.path.given}: ${(packError as Error).message}`);
  if (outcome.exitCode !== 0) throw await cellScriptError(api, target, outcome, dst.given);
}
