// A small ustar reader for image archives (OCI image layouts, docker-save archives): regular files,
// directories, links and devices; pax extended headers (`x` for the next entry, `g` for all that follow) and
// GNU long names/link names (`L`, `K`); base-256 sizes. Two forms share one header parser:
// `readTar(buffer)` (whole archive in memory, entries are zero-copy views) and `readTarStream(stream)`
// (entries one at a time, each body streamed).
//
// Entry names are normalized (`./a//b/` → `a/b`, the root `./` → `.`). An absolute name, or one with a `..`
// component, makes the reader throw: nothing read from an archive can name a path outside it. The same check
// applies to hard-link targets (they name archive members); symlink targets are data and are kept as written.

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other';

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
  /** The typeflag character as found in the header. */
  typeflag: string;
  /** The pax records that applied to this entry (global and per-entry), if any. */
  pax?: Record<string, string>;
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

const BLOCK = 512;
/** Upper bound for pax and GNU long-name bodies, which are held in memory. */
const MAX_META_BYTES = 1 << 20;

/** Throws for an absolute path or one with a `..` component; returns the normalized relative path. */
export function safeTarPath(name: string): string {
  if (name.includes('\0')) throw new Error(`tar: NUL byte in path ${JSON.stringify(name)}`);
  if (name.startsWith('/')) throw new Error(`tar: absolute path ${JSON.stringify(name)} in archive`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`tar: path ${JSON.stringify(name)} escapes the archive (..)`);
  return parts.length ? parts.join('/') : '.';
}

interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
}

function cstring(block: Buffer, start: number, len: number): string {
  const end = block.indexOf(0, start);
  return block.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

function numeric(block: Buffer, start: number, len: number, field: string): number {
  if (block[start] & 0x80) {
    // base-256: big-endian two's complement; the leading 0x80 marks a positive value
    if (block[start] === 0xff) throw new Error(`tar: negative ${field}`);
    let v = block[start] & 0x7f;
    for (let i = start + 1; i < start + len; i++) {
      v = v * 256 + block[i];
      if (v > Number.MAX_SAFE_INTEGER) throw new Error(`tar: ${field} too large`);
    }
    return v;
  }
  const s = block
    .toString('latin1', start, start + len)
    .replace(/[\0 ]+$/g, '')
    .replace(/^[ ]+/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`tar: bad ${field} field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

/** Parses one header block; null for an all-zero block (end of archive). */
function parseRawHeader(block: Buffer): RawHeader | null {
  let unsigned = 0;
  let signed = 0;
  let zero = true;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    if (block[i] !== 0) zero = false;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (zero) return null;
  const stored = numeric(block, 148, 8, 'checksum');
  if (stored !== unsigned && stored !== signed) throw new Error('tar: header checksum mismatch (not a tar archive, or corrupt)');
  let name = cstring(block, 0, 100);
  // POSIX ustar ("ustar\0" "00") has a 155-byte name prefix; GNU ("ustar  \0") uses that area for other things
  if (block.toString('latin1', 257, 263) === 'ustar\0') {
    const prefix = cstring(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: numeric(block, 100, 8, 'mode'),
    uid: numeric(block, 108, 8, 'uid'),
    gid: numeric(block, 116, 8, 'gid'),
    size: numeric(block, 124, 12, 'size'),
    mtime: numeric(block, 136, 12, 'mtime'),
    typeflag: String.fromCharCode(block[156]),
    linkname: cstring(block, 157, 100),
  };
}

/** Parses pax records `<len> <key>=<value>\n`. */
export function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) break; // padding
    const space = body.indexOf(0x20, pos);
    if (space === -1) throw new Error('tar: malformed pax record');
    const len = Number(body.toString('latin1', pos, space));
    if (!Number.isInteger(len) || len <= space - pos + 1 || pos + len > body.length) throw new Error('tar: malformed pax record length');
    const record = body.toString('utf8', space + 1, pos + len - 1); // drop the trailing newline
    const eq = record.indexOf('=');
    if (eq === -1) throw new Error('tar: malformed pax record (no =)');
    out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

function entryType(typeflag: string, name: string): TarEntryType {
  switch (typeflag) {
    case '0':
    case '\0':
    case '7':
      return name.endsWith('/') ? 'directory' : 'file'; // old tars mark directories by a trailing slash
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

const META_TYPES = new Set(['x', 'g', 'L', 'K']);

/** The extended-header state between entries: pax globals, and what the next real entry takes over. */
class ExtendedState {
  private global: Record<string, string> = {};
  private next: Record<string, string> | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;

  /** Takes in a meta entry (`x`, `g`, `L`, `K`) and its body. */
  absorb(typeflag: string, body: Buffer): void {
    if (typeflag === 'x') this.next = { ...(this.next ?? {}), ...parsePax(body) };
    else if (typeflag === 'g') this.global = { ...this.global, ...parsePax(body) };
    else {
      const end = body.indexOf(0);
      const s = body.toString('utf8', 0, end === -1 ? body.length : end);
      if (typeflag === 'L') this.longName = s;
      else this.longLink = s;
    }
  }

  /** The header of a real entry with the pending extensions applied; resets the per-entry ones. */
  resolve(raw: RawHeader): TarHeader {
    const pax = this.next || Object.keys(this.global).length ? { ...this.global, ...(this.next ?? {}) } : undefined;
    const rawName = pax?.path ?? this.longName ?? raw.name;
    const type = entryType(raw.typeflag, rawName);
    let linkname = pax?.linkpath ?? this.longLink ?? raw.linkname;
    if (type === 'hardlink') linkname = safeTarPath(linkname);
    const num = (key: string, fallback: number): number => {
      const v = pax?.[key];
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`tar: bad pax ${key} ${JSON.stringify(v)}`);
      return key === 'mtime' ? n : Math.floor(n);
    };
    this.next = undefined;
    this.longName = undefined;
    this.longLink = undefined;
    const header: TarHeader = {
      name: safeTarPath(rawName),
      type,
      size: num('size', raw.size),
      mode: raw.mode,
      uid: num('uid', raw.uid),
      gid: num('gid', raw.gid),
      mtime: num('mtime', raw.mtime),
      linkname,
      typeflag: raw.typeflag,
    };
    if (pax) header.pax = pax;
    return header;
  }
}

const padded = (size: number): number => Math.ceil(size / BLOCK) * BLOCK;

/** Every entry of an archive held in memory; `data` is a view into `archive`. */
export function readTar(archive: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  const state = new ExtendedState();
  let off = 0;
  while (off + BLOCK <= archive.length) {
    const raw = parseRawHeader(archive.subarray(off, off + BLOCK));
    if (!raw) return out;
    off += BLOCK;
    if (META_TYPES.has(raw.typeflag)) {
      if (raw.size > MAX_META_BYTES) throw new Error(`tar: extended header of ${raw.size} bytes is too large`);
      if (off + raw.size > archive.length) throw new Error('tar: archive truncated in an extended header');
      state.absorb(raw.typeflag, archive.subarray(off, off + raw.size));
      off += padded(raw.size);
      continue;
    }
    const header = state.resolve(raw);
    if (off + header.size > archive.length) throw new Error(`tar: archive truncated in ${header.name}`);
    out.push({ ...header, data: archive.subarray(off, off + header.size) });
    off += padded(header.size);
  }
  if (off < archive.length && archive.subarray(off).some((b) => b !== 0)) throw new Error('tar: archive truncated in a header');
  return out;
}

export type ByteSource = NodeJS.ReadableStream | AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array>;

/** Buffered exact reads over an async byte source. */
class ByteReader {
  private readonly it: AsyncIterator<Buffer | Uint8Array | string> | Iterator<Buffer | Uint8Array | string>;
  private buf: Buffer = Buffer.alloc(0);
  private eof = false;
  constructor(source: ByteSource) {
    const asyncIt = (source as AsyncIterable<Buffer | Uint8Array | string>)[Symbol.asyncIterator];
    this.it = asyncIt ? asyncIt.call(source) : (source as Iterable<Buffer | Uint8Array | string>)[Symbol.iterator]();
  }
  private async pull(): Promise<Buffer | undefined> {
    if (this.eof) return undefined;
    const r = await this.it.next();
    if (r.done) {
      this.eof = true;
      return undefined;
    }
    const v = r.value;
    return typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  /** Exactly n bytes; null when the source ended before any of them; throws when it ended in between. */
  async readExact(n: number, what: string): Promise<Buffer | null> {
    const parts: Buffer[] = [this.buf];
    let have = this.buf.length;
    while (have < n) {
      const c = await this.pull();
      if (!c) break;
      parts.push(c);
      have += c.length;
    }
    const all = parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
    if (have < n) {
      this.buf = Buffer.alloc(0);
      if (have === 0) return null;
      throw new Error(`tar: archive truncated in ${what}`);
    }
    this.buf = all.subarray(n);
    return all.subarray(0, n);
  }
  /** n bytes as chunks, as they arrive. */
  async *take(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0) {
        const c = await this.pull();
        if (!c) throw new Error(`tar: archive truncated in ${what}`);
        this.buf = c;
      }
      const piece = this.buf.subarray(0, Math.min(left, this.buf.length));
      this.buf = this.buf.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }
  async skip(n: number, what: string): Promise<void> {
    for await (const piece of this.take(n, what)) void piece;
  }
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (await this.pull());
  }
}

/**
 * The entries of a tar stream, one at a time. Each entry's body must be consumed (or is skipped) before the
 * next entry is produced; the source is read to its end.
 */
export async function* readTarStream(source: ByteSource): AsyncGenerator<TarStreamEntry> {
  const reader = new ByteReader(source);
  const state = new ExtendedState();
  for (;;) {
    const block = await reader.readExact(BLOCK, 'a header');
    if (!block) return;
    const raw = parseRawHeader(block);
    if (!raw) {
      await reader.drain();
      return;
    }
    if (META_TYPES.has(raw.typeflag)) {
      if (raw.size > MAX_META_BYTES) throw new Error(`tar: extended header of ${raw.size} bytes is too large`);
      const body = raw.size ? await reader.readExact(raw.size, 'an extended header') : Buffer.alloc(0);
      if (!body) throw new Error('tar: archive truncated in an extended header');
      await reader.skip(padded(raw.size) - raw.size, 'padding');
      state.absorb(raw.typeflag, body);
      continue;
    }
    const header = state.resolve(raw);
    let remaining = header.size;
    let current = true;
    let started = false;
    const body = async function* (): AsyncGenerator<Buffer> {
      if (!current) throw new Error(`tar: the body of ${header.name} was asked for after the next entry`);
      if (started) throw new Error(`tar: the body of ${header.name} can be read once`);
      started = true;
      for await (const piece of reader.take(remaining, header.name)) {
        remaining -= piece.length;
        yield piece;
      }
    };
    const entry: TarStreamEntry = {
      ...header,
      body,
      async buffer(): Promise<Buffer> {
        const parts: Buffer[] = [];
        for await (const piece of body()) parts.push(piece);
        return Buffer.concat(parts);
      },
    };
    yield entry;
    current = false;
    await reader.skip(remaining + padded(header.size) - header.size, header.name);
  }
}
