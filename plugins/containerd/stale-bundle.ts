import fs from 'node:fs';
import path from 'node:path';

/** containerd's answer to a task create whose bundle directory is already there. */
const BUNDLE_EXISTS = /failed to start shim: mkdir (\/\S+): file exists/;

/** How old a bundle with no shim must be before it counts as left over, not as a create still under way. */
const STALE_MS = 5_000;

/**
 * Removes the bundle directory that containerd 1.6 leaves when it dies while creating a task: made before the shim
 * started, so it holds no `address`; the cleanup of a restarted containerd then fails on the missing `runtime`
 * file and keeps the directory, and every later create of that task fails with "file exists" (moby/moby#50040),
 * restarts or not. `message` is that create's error. Only a directory named `<ns>/<id>` under containerd's task
 * state, with no shim address or init pid, older than a create takes, and an empty `rootfs` (nothing mounted) is
 * removed, entry by entry (no recursive delete). Returns the directory removed, or why it was left.
 */
export function removeStaleBundle(message: string, ns: string, id: string, now = Date.now()): { removed: string } | { left: string } {
  const m = BUNDLE_EXISTS.exec(message);
  if (!m) return { left: 'not a bundle left over' };
  const dir = m[1];
  if (
    path.basename(dir) !== id ||
    path.basename(path.dirname(dir)) !== ns ||
    !/io\.containerd\.runtime\.v2\.task$/.test(path.dirname(path.dirname(dir)))
  )
    return { left: `${dir} is not the task state directory of ${ns}/${id}` };
  try {
    const entries = fs.readdirSync(dir);
    if (entries.includes('address') || entries.includes('init.pid')) return { left: `a shim was started in ${dir}` };
    if (now - fs.statSync(dir).mtimeMs < STALE_MS) return { left: `${dir} is recent: a create may still be under way` };
    const rootfs = path.join(dir, 'rootfs');
    if (entries.includes('rootfs') && fs.readdirSync(rootfs).length > 0) return { left: `${rootfs} is not empty (mounted?)` };
    for (const e of entries) {
      const p = path.join(dir, e);
      if (e === 'rootfs' && fs.lstatSync(p).isDirectory()) fs.rmdirSync(p);
      else fs.unlinkSync(p);
    }
    fs.rmdirSync(dir);
    return { removed: dir };
  } catch (err) {
    // gone meanwhile (containerd's own cleanup) is as good as removed
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { removed: dir };
    return { left: `${dir}: ${(err as Error).message}` };
  }
}
