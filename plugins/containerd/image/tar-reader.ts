// Reads image archives (OCI image layouts, docker-save archives, layers) with node-tar's Parser, which knows the
// formats (ustar, pax `x`/`g`, GNU `L`/`K`, base-256 numbers); this file adds what an image reader needs on top:
// entries pulled one at a time with each body streamed on demand (node-tar pushes), names normalized and
// refused when they would leave the archive, and every damage an error rather than node-tar's skip-and-warn.
// Entries of a type node-tar does not know are skipped (the importers use files, directories and links).
//
// Entry names are normalized (`./a//b/` → `a/b`, the root `./` → `.`). An absolute name, or one with a `..`
// component, makes the reader throw: nothing read from an archive can name a path outside it. The same check
// applies to hard-link targets (they name archive members); symlink targets are data and are kept as written.

import { Parser, type ReadEntry } from 'tar';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarHeader {
  /** Normalized relative path (`.` for the archive root). */
  name: string;
  type: TarEntryType;
  /** Size of the entry's data in bytes. */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** Symlink target, or the (normalized) member a hard link points at; '' otherwise. */
  linkname: string;
}

export interface TarEntry extends TarHeader {
  data: Buffer;
}

export interface TarStreamEntry extends TarHeader {
  /** The entry's data as it arrives. Iterate it at most once, before asking for the next entry. */
  body(): AsyncIterable<Buffer>;
  /** The entry's data in one Buffer. */
  buffer(): Promise<Buffer>;
}

export type ByteSource = NodeJS.ReadableStream | AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array>;

/** Throws for an absolute path or one with a `..` component; returns the normalized relative path. */
export function safeTarPath(name: string): string {
  if (name.includes('\0')) throw new Error(`tar: NUL byte in path ${JSON.stringify(name)}`);
  if (name.startsWith('/')) throw new Error(`tar: absolute path ${JSON.stringify(name)} in archive`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`tar: path ${JSON.stringify(name)} escapes the archive (..)`);
  return parts.length ? parts.join('/') : '.';
}

const TYPES: Record<string, TarEntryType> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Link: 'hardlink',
  SymbolicLink: 'symlink',
  CharacterDevice: 'char',
  BlockDevice: 'block',
  Directory: 'directory',
  GNUDumpDir: 'directory',
  FIFO: 'fifo',
};

function headerOf(entry: ReadEntry): TarHeader {
  const type = TYPES[entry.type];
  // The numbers come from node-tar's Header, which applies a pax `x` record over a `g` one as POSIX says; its
  // ReadEntry copies the global records last, so they win there (uid, size, mtime, ...).
  const h = entry.header;
  const linkname = entry.extended?.linkpath ?? entry.globalExtended?.linkpath ?? h.linkpath ?? '';
  return {
    name: safeTarPath(entry.path),
    type,
    size: h.size ?? 0,
    mode: (h.mode ?? 0) & 0o7777,
    uid: h.uid ?? 0,
    gid: h.gid ?? 0,
    mtime: h.mtime ? h.mtime.getTime() / 1000 : 0,
    linkname: type === 'hardlink' ? safeTarPath(linkname) : linkname,
  };
}

/**
 * A node-tar Parser whose damage is an error: node-tar warns and skips a bad header (checksum), a truncated end
 * and an oversized extended header, where a reader of images must stop. `failure()` is the first one.
 */
function strictParser(onEntry: (entry: ReadEntry) => void): { parser: Parser; failure(): Error | undefined } {
  let failure: Error | undefined;
  // its `strict` mode would also refuse an archive of zero blocks (an empty layer), which is a valid archive
  const parser = new Parser({
    brotli: false,
    zstd: false,
    onwarn: (code, message) => {
      if (code === 'TAR_BAD_ARCHIVE' && /^Unrecognized archive format/.test(String(message))) return;
      const text = String(message);
      failure ??= new Error(
        /^Truncated input/.test(text)
          ? `tar: archive truncated (${text})`
          : /checksum/.test(text)
            ? 'tar: header checksum mismatch (not a tar archive, or corrupt)'
            : `tar: ${text} (${code})`,
      );
    },
  });
  parser.on('entry', onEntry);
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    if (entry.meta) failure ??= new Error(`tar: extended header of ${entry.size} bytes is too large`);
  });
  return { parser, failure: () => failure };
}

const toBuffer = (v: Buffer | Uint8Array | string): Buffer =>
  typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** Every entry of an archive held in memory. */
export function readTar(archive: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let thrown: unknown;
  const { parser, failure } = strictParser((entry) => {
    try {
      const header = headerOf(entry);
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => out.push({ ...header, data: Buffer.concat(chunks) }));
    } catch (err) {
      thrown ??= err;
      entry.resume();
    }
  });
  // node-tar parses a Buffer written at once synchronously: every entry has ended when end() returns
  parser.end(archive);
  if (thrown) throw thrown;
  const err = failure();
  if (err) throw err;
  return out;
}

/**
 * The entries of a tar stream, one at a time. Each entry's body must be consumed (or is skipped) before the
 * next entry is produced; the source is read as the consumer asks for data, and to its end.
 */
export async function* readTarStream(source: ByteSource): AsyncGenerator<TarStreamEntry> {
  const queue: ReadEntry[] = [];
  const { parser, failure } = strictParser((entry) => queue.push(entry));
  const asyncIt = (source as AsyncIterable<Buffer | Uint8Array | string>)[Symbol.asyncIterator];
  const it = asyncIt ? asyncIt.call(source) : (source as Iterable<Buffer | Uint8Array | string>)[Symbol.iterator]();
  let ended = false;
  /** Feeds node-tar one more piece of the source (or its end); false once there is nothing left. */
  const feed = async (): Promise<boolean> => {
    if (ended) return false;
    const r = await it.next();
    if (r.done) {
      ended = true;
      parser.end();
    } else parser.write(toBuffer(r.value));
    const err = failure();
    if (err) throw err;
    return true;
  };
  for (;;) {
    const entry = queue.shift();
    if (!entry) {
      if (!(await feed())) return;
      continue;
    }
    const header = headerOf(entry);
    // Flowing into a local list: node-tar gets one source piece at a time, as the consumer asks, so the list holds
    // at most one piece (a paused entry would make node-tar add a drain listener on every write instead).
    const pending: Buffer[] = [];
    let current = true;
    let done = false;
    // 'end' first: adding the data listener flushes what the entry holds, and may end it there and then
    entry.on('end', () => {
      done = true;
    });
    entry.on('data', (c: Buffer) => {
      if (current) pending.push(c);
    });
    let started = false;
    const body = async function* (): AsyncGenerator<Buffer> {
      if (!current) throw new Error(`tar: the body of ${header.name} was asked for after the next entry`);
      if (started) throw new Error(`tar: the body of ${header.name} can be read once`);
      started = true;
      for (;;) {
        const chunk = pending.shift();
        if (chunk) yield chunk;
        else if (done || !(await feed())) break;
      }
      const err = failure();
      if (err) throw err;
    };
    yield {
      ...header,
      body,
      async buffer(): Promise<Buffer> {
        const parts: Buffer[] = [];
        for await (const piece of body()) parts.push(piece);
        return Buffer.concat(parts);
      },
    };
    // what the consumer left unread is dropped as node-tar reads past it
    current = false;
    pending.length = 0;
    while (!done && (await feed()));
  }
}
