// The one tar writer of the tree, for archives built in memory by tests (image layers, OCI archives, malformed
// cases). node-tar writes the blocks: its Header encodes a ustar header (prefix split, base-256 numbers, checksum)
// and its Pax a pax `x` or `g` header. node-tar's own writer (Pack) only packs files from a disk and never
// writes GNU long names, so what is left here is the layout: which headers an entry needs, GNU `L`/`K` entries
// (node-tar reads them; `longNames: 'gnu'`), and `sorted` archives for reproducible images. Only tests write tar.

import { Header, type HeaderData, Pax } from 'tar';

export interface TarWriteEntry {
  name: string;
  /** `pax-global` writes a pax `g` header carrying `pax` (it applies to every later entry). */
  type?: 'file' | 'directory' | 'symlink' | 'hardlink' | 'pax-global';
  data?: Buffer | string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch (default 0, for reproducible archives). */
  mtime?: number;
  linkname?: string;
  /** Extra pax records for this entry (written in an `x` header), or the records of a `pax-global` entry. */
  pax?: Record<string, string>;
}

export interface TarWriteOptions {
  /** How a name or link target past 100 bytes (that no ustar prefix split holds) is written (default pax). */
  longNames?: 'pax' | 'gnu';
  /**
   * Names normalized (`./a/` → `a`) and written in byte order, a duplicate or `..` refused: the same entries give
   * the same bytes whatever their order (a directory precedes its contents), as reproducible images need.
   */
  sorted?: boolean;
}

const BLOCK = 512;
const TYPE_NAMES = { file: 'File', directory: 'Directory', symlink: 'SymbolicLink', hardlink: 'Link' } as const;
/** The pax records node-tar's Pax writes, and how each is held. */
const PAX_KEYS: Record<string, 'string' | 'number' | 'date'> = {
  path: 'string',
  linkpath: 'string',
  comment: 'string',
  charset: 'string',
  uname: 'string',
  gname: 'string',
  uid: 'number',
  gid: 'number',
  size: 'number',
  dev: 'number',
  ino: 'number',
  nlink: 'number',
  mtime: 'date',
  atime: 'date',
  ctime: 'date',
};

/** One header block; `needPax` when a field did not fit (node-tar then wrote a truncated or prefixed form). */
function headerBlock(fields: HeaderData): { block: Buffer; needPax: boolean } {
  const h = new Header(fields);
  const needPax = h.encode();
  return { block: h.block as Buffer, needPax };
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest ? [data, Buffer.alloc(BLOCK - rest)] : [data];
}

/** A pax `x` (or `g`) header with these records, as node-tar encodes it (header and body, padded). */
function paxBlocks(records: Record<string, string>, global: boolean): Buffer {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(records)) {
    const kind = PAX_KEYS[key];
    if (!kind) throw new Error(`tar-writer: node-tar's Pax cannot write the record ${key}`);
    fields[key] = kind === 'number' ? Number(value) : kind === 'date' ? new Date(Number(value) * 1000) : value;
  }
  // its header's own fields come from the records: none but those asked for (mtime 0, uid 0, ...)
  return new Pax(fields as HeaderData, global).encode();
}

/** A GNU long name (`L`) or long link name (`K`) entry holding `value`. */
function gnuLongEntry(type: 'NextFileHasLongPath' | 'NextFileHasLongLinkpath', value: string, mtime: Date): Buffer[] {
  const body = Buffer.from(`${value}\0`);
  const { block } = headerBlock({ path: '././@LongLink', type, size: body.length, mode: 0o644, uid: 0, gid: 0, mtime });
  return [block, ...padded(body)];
}

/** `a/b/` and `./a/b` become `a/b`; rejects empty and `..` paths. */
function normalize(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.length === 0) throw new Error(`tar-writer: empty path "${p}"`);
  if (parts.includes('..')) throw new Error(`tar-writer: ".." in path "${p}"`);
  return parts.join('/');
}

function inOrder(entries: readonly TarWriteEntry[]): TarWriteEntry[] {
  const items = entries.map((e) => ({ ...e, name: normalize(e.name) }));
  items.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  for (let i = 1; i < items.length; i++)
    if (items[i].name === items[i - 1].name) throw new Error(`tar-writer: duplicate path "${items[i].name}"`);
  return items;
}

/** The archive (with its two zero end blocks) as one Buffer. */
export function writeTar(entries: readonly TarWriteEntry[], options: TarWriteOptions = {}): Buffer {
  const out: Buffer[] = [];
  for (const e of options.sorted ? inOrder(entries) : entries) {
    const type = e.type ?? 'file';
    const mtime = new Date((e.mtime ?? 0) * 1000);
    if (type === 'pax-global') {
      out.push(paxBlocks(e.pax ?? {}, true));
      continue;
    }
    const data = type === 'file' ? (typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0))) : Buffer.alloc(0);
    const name = type === 'directory' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
    const linkname = e.linkname ?? '';
    const fields: HeaderData = {
      path: name,
      type: TYPE_NAMES[type],
      size: data.length,
      mode: e.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime,
      linkpath: linkname,
    };
    const longName = headerBlock({ ...fields, linkpath: '' }).needPax;
    const longLink = Buffer.byteLength(linkname) > 100;
    if (options.longNames === 'gnu') {
      if (longName) out.push(...gnuLongEntry('NextFileHasLongPath', name, mtime));
      if (longLink) out.push(...gnuLongEntry('NextFileHasLongLinkpath', linkname, mtime));
      out.push(headerBlock({ ...fields, path: longName ? name.slice(0, 99) : name }).block);
    } else {
      if (longName || longLink || e.pax) {
        const records: Record<string, string> = { ...(e.pax ?? {}) };
        if (longName) records.path = name;
        if (longLink) records.linkpath = linkname;
        out.push(paxBlocks(records, false));
      }
      out.push(headerBlock(fields).block);
    }
    out.push(...padded(data).filter((b) => b.length));
  }
  out.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(out);
}
