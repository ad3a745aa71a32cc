// A minimal, deterministic ustar writer for building test images: regular files, directories and symlinks,
// mtime 0, uid/gid 0 with empty user and group names, entries in byte order of their path (so a directory
// always precedes its contents), and a pax extended header for paths or link targets longer than the
// 100 bytes a ustar header holds. The same entries always give the same bytes.

export type TarEntry =
  | { type: 'file'; path: string; data: Buffer | string; mode?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string; mode?: number };

const BLOCK = 512;
const NAME_MAX = 100;

/** `a/b/` and `./a/b` become `a/b`; rejects empty, absolute-escaping and `..` paths. */
function normalize(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.length === 0) throw new Error(`tar: empty path "${p}"`);
  if (parts.includes('..')) throw new Error(`tar: ".." in path "${p}"`);
  return parts.join('/');
}

/** An octal field of `width` bytes: zero-padded digits then NUL. */
function octal(value: number, width: number): string {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`tar: ${value} does not fit a ${width}-byte field`);
  return `${digits.padStart(width - 1, '0')}\0`;
}

function put(buf: Buffer, offset: number, width: number, text: string | Buffer): void {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  bytes.copy(buf, offset, 0, Math.min(bytes.length, width));
}

/** The first `max` bytes of `s` (UTF-8), not cutting a multi-byte character. */
function truncateBytes(s: string, max: number): string {
  let out = '';
  let len = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (len + n > max) break;
    out += ch;
    len += n;
  }
  return out;
}

function header(name: string, mode: number, size: number, typeflag: string, linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  put(h, 0, 100, truncateBytes(name, NAME_MAX));
  put(h, 100, 8, octal(mode & 0o7777, 8));
  put(h, 108, 8, octal(0, 8)); // uid
  put(h, 116, 8, octal(0, 8)); // gid
  put(h, 124, 12, octal(size, 12));
  put(h, 136, 12, octal(0, 12)); // mtime
  put(h, 148, 8, '        '); // checksum placeholder: 8 spaces
  put(h, 156, 1, typeflag);
  put(h, 157, 100, truncateBytes(linkname, NAME_MAX));
  put(h, 257, 6, 'ustar\0');
  put(h, 263, 2, '00');
  // uname/gname stay empty (numeric owner), devmajor/devminor zero, prefix unused (pax carries long names).
  put(h, 329, 8, octal(0, 8));
  put(h, 337, 8, octal(0, 8));
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest, 0);
}

/** One pax record `"<len> <key>=<value>\n"`, where len counts the whole record including its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

/** Builds a tar archive (ending with the two zero blocks) from `entries`, sorted by path. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const items = entries.map((e) => ({ entry: e, path: normalize(e.path) }));
  items.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  for (let i = 1; i < items.length; i++) {
    if (items[i].path === items[i - 1].path) throw new Error(`tar: duplicate path "${items[i].path}"`);
  }

  const chunks: Buffer[] = [];
  for (const { entry, path } of items) {
    const name = entry.type === 'dir' ? `${path}/` : path;
    const linkname = entry.type === 'symlink' ? entry.target : '';

    const pax: string[] = [];
    if (Buffer.byteLength(name) > NAME_MAX) pax.push(paxRecord('path', name));
    if (Buffer.byteLength(linkname) > NAME_MAX) pax.push(paxRecord('linkpath', linkname));
    if (pax.length > 0) {
      const data = Buffer.from(pax.join(''), 'utf8');
      const base = path.split('/').pop() ?? path;
      chunks.push(header(`PaxHeaders/${base}`, 0o644, data.length, 'x'), data, padding(data.length));
    }

    switch (entry.type) {
      case 'file': {
        const data = typeof entry.data === 'string' ? Buffer.from(entry.data, 'utf8') : entry.data;
        chunks.push(header(name, entry.mode ?? 0o644, data.length, '0'), data, padding(data.length));
        break;
      }
      case 'dir':
        chunks.push(header(name, entry.mode ?? 0o755, 0, '5'));
        break;
      case 'symlink':
        chunks.push(header(name, entry.mode ?? 0o777, 0, '2', linkname));
        break;
    }
  }
  chunks.push(Buffer.alloc(2 * BLOCK, 0));
  return Buffer.concat(chunks);
}
