// A cpio "newc" archive writer, the format the Linux kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst). Entries are streamed from their host files,
// so a guest image of a few hundred megabytes never sits in memory. Owners are root, times zero: the archive
// depends only on the entries' contents and modes.

import * as fs from 'node:fs';

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; mode?: number; data?: Buffer | string; source?: string }
  | { type: 'symlink'; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const CHUNK = 1 << 20;

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** Writes `entries` (parents before children) and the trailer to `out`; returns the archive's size in bytes. */
export function writeCpio(out: string, entries: CpioEntry[]): number {
  const fd = fs.openSync(out, 'w');
  let written = 0;
  const write = (b: Buffer) => {
    fs.writeSync(fd, b);
    written += b.length;
  };
  const zeros = (n: number) => n && write(Buffer.alloc(n));
  const header = (ino: number, mode: number, nlink: number, size: number, name: string) => {
    const nameBytes = Buffer.from(`${name}\0`);
    const fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, nameBytes.length, 0];
    const head = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
    write(head);
    write(nameBytes);
    zeros(pad4(head.length + nameBytes.length));
  };
  try {
    let ino = 1;
    for (const e of entries) {
      const name = e.path.replace(/^\/+/, '');
      if (e.type === 'dir') {
        header(ino++, S_IFDIR | (e.mode ?? 0o755), 2, 0, name);
      } else if (e.type === 'symlink') {
        const target = Buffer.from(e.target);
        header(ino++, S_IFLNK | 0o777, 1, target.length, name);
        write(target);
        zeros(pad4(target.length));
      } else if (e.source !== undefined) {
        const size = fs.statSync(e.source).size;
        header(ino++, S_IFREG | (e.mode ?? 0o644), 1, size, name);
        const src = fs.openSync(e.source, 'r');
        try {
          const buf = Buffer.allocUnsafe(CHUNK);
          for (let done = 0; done < size; ) {
            const n = fs.readSync(src, buf, 0, Math.min(CHUNK, size - done), done);
            if (n === 0) throw new Error(`${e.source} shrank while it was archived`);
            write(buf.subarray(0, n));
            done += n;
          }
        } finally {
          fs.closeSync(src);
        }
        zeros(pad4(size));
      } else {
        const data = Buffer.from(e.data ?? '');
        header(ino++, S_IFREG | (e.mode ?? 0o644), 1, data.length, name);
        write(data);
        zeros(pad4(data.length));
      }
    }
    header(0, 0, 1, 0, 'TRAILER!!!');
  } finally {
    fs.closeSync(fd);
  }
  return written;
}
