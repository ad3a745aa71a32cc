// Entry names of the tar streams kuke cp moves, and their rebase (docker's RebaseArchiveEntries): the source's
// top name replaced by the name it gets at the destination.

/** An entry name without leading `./` and trailing `/` (`''` for the top of a `.` archive). */
export function entryName(name: string): string {
  let n = name.replace(/\/+$/, '');
  while (n.startsWith('./')) n = n.slice(2).replace(/^\/+/, '');
  return n === '.' ? '' : n;
}

/** The source's top name: the first entry's (`.` when the archive holds a directory's content). */
export function topName(firstEntry: string): string {
  return entryName(firstEntry) || '.';
}

/**
 * `name` (an entry name, as entryName gives it) with the top `from` replaced by `to`; undefined when the entry
 * is not under `from` (an archive with more than the source in it). `to` undefined keeps the name.
 */
export function rebaseName(name: string, from: string, to: string | undefined): string | undefined {
  let rest: string;
  if (from === '.') rest = name;
  else if (name === from) rest = '';
  else if (name.startsWith(`${from}/`)) rest = name.slice(from.length + 1);
  else return undefined;
  const top = to ?? (from === '.' ? '' : from);
  if (!top) return rest;
  return rest ? `${top}/${rest}` : top;
}
