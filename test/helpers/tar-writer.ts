// Deterministic archives for test images: regular files, directories and symlinks, mtime 0, uid/gid 0, entries in
// byte order of their path (so a directory always precedes its contents). The same entries always give the same
// bytes. The headers are written by ustar-writer.ts (the one tar writer of the tree).

import { writeTar as writeUstar } from './ustar-writer';

export type TarEntry =
  | { type: 'file'; path: string; data: Buffer | string; mode?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string; mode?: number };

/** `a/b/` and `./a/b` become `a/b`; rejects empty and `..` paths. */
function normalize(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.length === 0) throw new Error(`tar: empty path "${p}"`);
  if (parts.includes('..')) throw new Error(`tar: ".." in path "${p}"`);
  return parts.join('/');
}

/** Builds a tar archive (ending with the two zero blocks) from `entries`, sorted by path. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const items = entries.map((e) => ({ entry: e, path: normalize(e.path) }));
  items.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  for (let i = 1; i < items.length; i++) {
    if (items[i].path === items[i - 1].path) throw new Error(`tar: duplicate path "${items[i].path}"`);
  }
  return writeUstar(
    items.map(({ entry, path }) =>
      entry.type === 'file'
        ? { name: path, type: 'file', data: entry.data, mode: entry.mode }
        : entry.type === 'dir'
          ? { name: path, type: 'directory', mode: entry.mode }
          : { name: path, type: 'symlink', linkname: entry.target, mode: entry.mode },
    ),
  );
}
