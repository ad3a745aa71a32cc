// A tar writer for building small archives in memory (test fixtures: image layers, OCI archives, malformed
// cases). Writes POSIX ustar headers; a name or link target that does not fit (100 bytes, or 155+100 with the ustar
// prefix) gets a pax `x` header, or a GNU `L`/`K` entry with `longNames: 'gnu'`. Only tests write tar: the product reads it.

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
  longNames?: 'pax' | 'gnu';
}

const BLOCK = 512;

function octal(value: number, len: number): string {
  // len-1 octal digits and a NUL
  return `${value.toString(8).padStart(len - 1, '0')}\0`;
}

function header(fields: {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  prefix?: string;
  gnu?: boolean;
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(fields.name, 0, 100, 'utf8');
  b.write(octal(fields.mode, 8), 100, 8, 'latin1');
  b.write(octal(fields.uid, 8), 108, 8, 'latin1');
  b.write(octal(fields.gid, 8), 116, 8, 'latin1');
  b.write(octal(fields.size, 12), 124, 12, 'latin1');
  b.write(octal(fields.mtime, 12), 136, 12, 'latin1');
  b.write(fields.typeflag, 156, 1, 'latin1');
  b.write(fields.linkname, 157, 100, 'utf8');
  if (fields.gnu) b.write('ustar  \0', 257, 8, 'latin1');
  else {
    b.write('ustar\0', 257, 6, 'latin1');
    b.write('00', 263, 2, 'latin1');
  }
  if (fields.prefix) b.write(fields.prefix, 345, 155, 'utf8');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  b.write(`${octal(sum, 7)} `, 148, 8, 'latin1');
  return b;
}

function pad(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest ? [data, Buffer.alloc(BLOCK - rest)] : [data];
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Splits a long name into ustar prefix + name when possible. */
function splitUstar(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return { prefix, name: rest };
  }
  return undefined;
}

/** The archive (with its two zero end blocks) as one Buffer. */
export function writeTar(entries: TarWriteEntry[], options: TarWriteOptions = {}): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'pax-global') {
      const body = Buffer.from(
        Object.entries(e.pax ?? {})
          .map(([k, v]) => paxRecord(k, v))
          .join(''),
      );
      out.push(
        header({
          mode: 0o644,
          uid: 0,
          gid: 0,
          mtime: e.mtime ?? 0,
          name: e.name || 'pax_global_header',
          size: body.length,
          typeflag: 'g',
          linkname: '',
        }),
        ...pad(body),
      );
      continue;
    }
    const data = type === 'file' ? (typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0))) : Buffer.alloc(0);
    const name = type === 'directory' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
    const linkname = e.linkname ?? '';
    const typeflag = { file: '0', hardlink: '1', symlink: '2', directory: '5' }[type];
    const common = {
      mode: e.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? 0,
    };
    let fitted = options.longNames === 'gnu' ? (Buffer.byteLength(name) <= 100 ? { prefix: '', name } : undefined) : splitUstar(name);
    const longLink = Buffer.byteLength(linkname) > 100;
    if (options.longNames === 'gnu') {
      if (!fitted) {
        const body = Buffer.from(`${name}\0`);
        out.push(header({ ...common, name: '././@LongLink', size: body.length, typeflag: 'L', linkname: '', gnu: true }), ...pad(body));
        fitted = { prefix: '', name: name.slice(0, 100) };
      }
      if (longLink) {
        const body = Buffer.from(`${linkname}\0`);
        out.push(header({ ...common, name: '././@LongLink', size: body.length, typeflag: 'K', linkname: '', gnu: true }), ...pad(body));
      }
    } else if (!fitted || longLink || e.pax) {
      let records = Object.entries(e.pax ?? {})
        .map(([k, v]) => paxRecord(k, v))
        .join('');
      if (!fitted) records += paxRecord('path', name);
      if (longLink) records += paxRecord('linkpath', linkname);
      const body = Buffer.from(records);
      out.push(
        header({ ...common, name: `PaxHeaders/${name.slice(-80)}`.slice(0, 100), size: body.length, typeflag: 'x', linkname: '' }),
        ...pad(body),
      );
      fitted = fitted ?? { prefix: '', name: name.slice(0, 100) };
    }
    out.push(
      header({
        ...common,
        name: fitted.name,
        prefix: fitted.prefix,
        size: data.length,
        typeflag,
        linkname: linkname.slice(0, 100),
        gnu: options.longNames === 'gnu',
      }),
      ...pad(data),
    );
  }
  out.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(out);
}
