import fs from 'node:fs';

/**
 * Copies a file to `out` from the start; with `until`, keeps copying what is appended (polling every 200 ms)
 * until that promise settles, then copies the rest. Used by `kuke log -f` and foreground `kuke run`.
 */
export async function followFile(file: string, out: NodeJS.WritableStream, until?: Promise<unknown>): Promise<void> {
  let offset = 0;
  const drain = () => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return; // not written yet
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (let n = fs.readSync(fd, buf, 0, buf.length, offset); n > 0; n = fs.readSync(fd, buf, 0, buf.length, offset)) {
        offset += n;
        out.write(Buffer.from(buf.subarray(0, n)));
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  drain();
  if (!until) return;
  let done = false;
  const settled = until.then(
    () => void (done = true),
    () => void (done = true),
  );
  while (!done) {
    await new Promise((r) => setTimeout(r, 200));
    drain();
  }
  await settled;
  drain();
}
