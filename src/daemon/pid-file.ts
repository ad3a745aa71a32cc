import fs from 'node:fs';

/** Writes `file` whole or not at all (temp file, rename): a reader never sees a half-written pid. */
export function atomicWriteFile(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data, { mode: 0o644 });
  fs.renameSync(tmp, file);
}
