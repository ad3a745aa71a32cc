// A path as docker cp reads it: a trailing `/` asserts a directory, a trailing `/.` copies a directory's
// content rather than the directory itself, and a cell's relative path starts at its root (`cell:tmp` is
// `/tmp`), as docker takes container paths.

import path from 'node:path';

export interface CopyPath {
  /** The path as given, for messages. */
  given: string;
  /** Normalized: no trailing slash (except `/` itself), no `.` or `..` components left. */
  clean: string;
  /** Ends with `/` or `/.` (or is `/`): it must be a directory. */
  assertDir: boolean;
  /** Ends with `/.` (or is `/`): the directory's content is copied, not the directory. */
  contents: boolean;
  /** The last component of `clean` (`.` for the root). */
  base: string;
  /** The directory holding `clean`. */
  dir: string;
}

function splitPath(given: string, clean: string, p: typeof path.posix): CopyPath {
  const root = clean === p.parse(clean).root && p.isAbsolute(clean);
  const contents = root || given === '.' || given.endsWith('/.');
  const assertDir = contents || given.endsWith('/');
  return { given, clean, assertDir, contents, base: root ? '.' : p.basename(clean), dir: root ? clean : p.dirname(clean) };
}

/** A path in a cell's container: absolute from the container's root. */
export function cellPath(given: string): CopyPath {
  return splitPath(given, path.posix.resolve('/', given), path.posix);
}

/** A path on this machine: absolute from the working directory. */
export function localPath(given: string, cwd = process.cwd()): CopyPath {
  return splitPath(given, path.resolve(cwd, given), path);
}
