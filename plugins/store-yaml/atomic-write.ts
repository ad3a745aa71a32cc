// The store's writes go through the SDK's crash-safe writer (temp file, fsync, rename, fsync of the directory),
// with the store's failpoint between fsync and rename: tests kill the process there to prove the old document stays.

import { writeFileAtomic as writeAtomic } from '../../sdk';

export { cleanStrayTemps, fsyncDir, tempPathFor } from '../../sdk';

export function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  return writeAtomic(file, data, { failpoint: 'store.before-rename' });
}
