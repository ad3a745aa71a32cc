import fs from 'node:fs';
import path from 'node:path';

/** containerd's answer to a task create whose bundle directory is already there. */
const BUNDLE_EXISTS = /failed to start shim: mkdir (\/\S+): file exists/;

/** How old a bundle with no shim must be before it counts as left over, not as a create still under way. */
const STALE_MS = 5_000;

/** When the containerd serving `socket` started (it binds its socket then); undefined when that cannot be read. */
export function containerdStartedMs(socket: string): number | undefined {
  try {
    return fs.statSync(socket).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Removes the bundle directory that containerd 1.6 leaves when it dies while creating a task: made before the shim
 * started, so it holds no `address`; the cleanup of a restarted containerd then fails on the missing `runtime`
 * file and keeps the directory, and every later create of that task fails with "file exists" (moby/moby#50040),
 * restarts or not. `message` is that create's error. Only a directory (not a link) named `<ns>/<id>` under
 * containerd's task state, with no shim address, shim pid or init pid, made before the running containerd started
 * (`startedMs`: so no create of this containerd is under way in it) and more than 5 s ago, whose entries are all
 * files, FIFOs, links or an empty `rootfs` (nothing mounted), is removed, entry by entry (no recursive delete).
 * Returns the directory removed, or why it was left.
 */
export function removeStaleBundle(
  message: string,
  ns: string,
  id: string,
  startedMs: number | undefined,
  now = Date.now(),
): { removed: string } | { left: string } {
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
    const st = fs.lstatSync(dir);
    if (!st.isDirectory()) return { left: `${dir} is not a directory` };
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    const names = entries.map((e) => e.name);
    if (['address', 'shim.pid', 'init.pid'].some((f) => names.includes(f))) return { left: `a shim was started in ${dir}` };
    const made = st.mtimeMs;
    if (now - made < STALE_MS) return { left: `${dir} is recent: a create may still be under way` };
    if (startedMs === undefined || made >= startedMs)
      return { left: `${dir} is not older than the running containerd: a create of it may still be under way` };
    const rootfs = path.join(dir, 'rootfs');
    for (const e of entries) {
      if (e.name === 'rootfs' && e.isDirectory()) {
        if (fs.readdirSync(rootfs).length > 0) return { left: `${rootfs} is not empty (mounted?)` };
      } else if (e.isDirectory()) return { left: `${dir} holds a directory ${e.name}` };
    }
    for (const e of entries) {
      if (e.name === 'rootfs' && e.isDirectory()) fs.rmdirSync(rootfs);
      else fs.unlinkSync(path.join(dir, e.name));
    }
    fs.rmdirSync(dir);
    return { removed: dir };
  } catch (err) {
    // gone meanwhile (containerd's own cleanup) is as good as removed
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { removed: dir };
    return { left: `${dir}: ${(err as Error).message}` };
  }
}
