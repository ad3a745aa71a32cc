// A local path packed as the tar stream kuke cp sends into a cell, with node-tar: modes, numeric owners and
// symlinks as they are, the top name rebased to the name it gets in the container. No user or group names
// travel, so the container's tar keeps the numeric ids instead of mapping names through its /etc/passwd.

import fs from 'node:fs';
import path from 'node:path';
import { type WriteEntry, create } from 'tar';
import { KukeonError } from '../../../sdk';
import type { CopyPath } from './copy-path';
import { entryName, rebaseName } from './tar-names';

export interface LocalSource {
  path: CopyPath;
  isDir: boolean;
  /** The directory packed from and what is packed in it. */
  cwd: string;
  members: string[];
  /** The top name of the entries (`.` for a directory's content). */
  from: string;
}

/** Checks a local source by docker's rules (a trailing `/` follows a link and needs a directory; `-L` follows). */
export function localSource(src: CopyPath, follow: boolean): LocalSource {
  let real = src.clean;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(real);
    if (st.isSymbolicLink() && (follow || src.assertDir)) {
      real = fs.realpathSync(real);
      st = fs.statSync(real);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new KukeonError('KUKEON_E_NOT_FOUND', `${src.given}: no such file or directory`);
    throw new KukeonError('KUKEON_E_COPY', `${src.given}: ${(err as Error).message}`);
  }
  const isDir = st.isDirectory();
  if (src.assertDir && !isDir) throw new KukeonError('KUKEON_E_COPY', `${src.given}: not a directory`);
  if (src.contents || real === path.parse(real).root) return { path: src, isDir, cwd: real, members: ['.'], from: '.' };
  return { path: src, isDir, cwd: path.dirname(real), members: [path.basename(real)], from: path.basename(real) };
}

const EMPTY_ARCHIVE = new Uint8Array(1024);

/** The tar stream of `src`, its top renamed to `to` (undefined: `src`'s own name; for a content copy, no top entry). */
export async function* packLocal(src: LocalSource, to: string | undefined): AsyncIterable<Uint8Array> {
  let { members } = src;
  // a directory's content into an existing directory: its children, not `.` (whose mode would land on the destination)
  if (src.from === '.' && to === undefined) members = fs.readdirSync(src.cwd);
  if (!members.length) {
    yield EMPTY_ARCHIVE;
    return;
  }
  const rename = to ?? (src.from === '.' ? undefined : src.path.base);
  const onWriteEntry = (entry: WriteEntry) => {
    // no names: the receiving tar keeps numeric ids (docker cp -a's behaviour)
    entry.myuser = '';
    const isDir = entry.type === 'Directory';
    const rebased = rebaseName(entryName(entry.path), src.from, rename);
    if (rebased) entry.path = isDir ? `${rebased}/` : rebased;
    if (entry.type === 'Link' && entry.linkpath !== undefined)
      entry.linkpath = rebaseName(entryName(entry.linkpath), src.from, rename) ?? entry.linkpath;
  };
  const pack = create({ cwd: src.cwd, strict: true, onWriteEntry }, members);
  for await (const chunk of pack) yield chunk as Uint8Array;
}
