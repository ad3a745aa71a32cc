// Where a copy lands on this machine, decided before anything is written, by docker cp's rules: into an
// existing directory under the source's own name, over an existing file, or as a new name in an existing
// directory.

import fs from 'node:fs';
import { KukeonError } from '../../../sdk';
import type { CopyPath } from './copy-path';

/** What a destination is: an existing directory, an existing non-directory, or nothing yet. */
export type DestinationKind = 'dir' | 'file' | 'none';

export interface LocalDestination {
  kind: DestinationKind;
  /** The directory the archive is unpacked into (its real path). */
  cwd: string;
  /** The name the source gets there; undefined: its own (into an existing directory). */
  rename?: string;
  path: CopyPath;
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KukeonError('KUKEON_E_COPY', `${p}: ${(err as Error).message}`);
  }
}

export function localDestination(dst: CopyPath): LocalDestination {
  const st = statOrUndefined(dst.clean);
  if (st?.isDirectory()) return { kind: 'dir', cwd: fs.realpathSync(dst.clean), path: dst };
  if (st) {
    if (dst.assertDir) throw new KukeonError('KUKEON_E_COPY', `${dst.given}: not a directory`);
    return { kind: 'file', cwd: fs.realpathSync(dst.dir), rename: dst.base, path: dst };
  }
  const parent = statOrUndefined(dst.dir);
  if (!parent?.isDirectory()) throw new KukeonError('KUKEON_E_NOT_FOUND', `${dst.given}: no such directory ${dst.dir}`);
  return { kind: 'none', cwd: fs.realpathSync(dst.dir), rename: dst.base, path: dst };
}

/** Docker's conditions on what the source turned out to be (known from the archive's first entry). */
export function destinationConflict(dst: { kind: DestinationKind; path: CopyPath }, sourceIsDir: boolean): KukeonError | undefined {
  if (sourceIsDir && dst.kind === 'file')
    return new KukeonError('KUKEON_E_COPY', `cannot copy a directory to a file: ${dst.path.given} is a file`);
  if (!sourceIsDir && dst.kind === 'none' && dst.path.assertDir)
    return new KukeonError('KUKEON_E_NOT_FOUND', `${dst.path.given}: no such directory (a file is copied into an existing directory only)`);
  return undefined;
}
