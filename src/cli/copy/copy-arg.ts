// One side of `kuke cp`, parsed as docker cp parses it: `CELL:PATH` is a cell's path, `-` a tar stream on
// stdin or stdout, and anything else a local path. A local path holding a colon is written as absolute or
// starting with `.` (`./a:b`), exactly docker's rule, so `a:b` always names a cell.

export type CopyArg = { kind: 'cell'; cell: string; path: string } | { kind: 'local'; path: string } | { kind: 'stream' };

export function parseCopyArg(arg: string): CopyArg {
  if (arg === '-') return { kind: 'stream' };
  if (arg.startsWith('/') || arg.startsWith('.')) return { kind: 'local', path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0) return { kind: 'local', path: arg };
  return { kind: 'cell', cell: arg.slice(0, colon), path: arg.slice(colon + 1) };
}
