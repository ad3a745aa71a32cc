// Files the plugin owns (conflists, their copies, its registry, cached results) are replaced whole with the SDK's
// writeFileAtomicSync (temp file, fsync, rename, fsync of the directory); this reads them back.

import fs from 'node:fs';

/** The file's text, or undefined when it does not exist. */
export function readFileIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
