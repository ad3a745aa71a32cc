// Crash-safe file replacement: a reader (or the next boot) sees the old file or the new one, never a torn one.
// Write a temp file in the same directory, fsync it, rename it over the target, fsync the directory so the rename
// itself is durable. The temp name is one `cleanStrayTemps` recognises, so a writer killed mid-write leaves
// nothing a cleaner cannot find.

import * as crypto from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { failpoint } from './failpoint';

export interface AtomicWriteOptions {
  /** The new file's mode, exactly (the umask does not apply). Default: 0o666 less the umask. */
  mode?: number;
  /** A failpoint checked between the fsync of the temp file and the rename (the store's: `store.before-rename`). */
  failpoint?: string;
}

/** `.<basename>.tmp-<pid>-<hex>`: dot-prefixed so listings skip it, with the pid so a cleaner knows its owner. */
const TEMP_RE = /^\..+\.tmp-(\d+)-[0-9a-f]+$/;

/** The pid that wrote a temp file named `name` (by `tempPathFor`), or undefined when it is not such a name. */
export function tempOwner(name: string): number | undefined {
  const m = TEMP_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** A fresh temp path beside `target`: `.<basename>.tmp-<pid>-<hex>`. */
export function tempPathFor(target: string): string {
  const suffix = `${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${suffix}`);
}

/** Whether `pid` is running (EPERM: it runs, as another user). */
export function pidRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Replaces `file` with `data` crash-safely (temp file, fsync, rename, fsync of the directory); creates its directory. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  await ensureDirDurable(dir);
  const temp = tempPathFor(file);
  let renamed = false;
  try {
    const handle = await fs.open(temp, 'wx', options.mode);
    try {
      if (options.mode !== undefined) await handle.chmod(options.mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // Tests kill the process here to prove a crash between fsync and rename leaves the old file.
    if (options.failpoint) failpoint(options.failpoint);
    await fs.rename(temp, file);
    renamed = true;
  } finally {
    if (!renamed) await fs.unlink(temp).catch(() => undefined);
  }
  await fsyncDir(dir);
  // A writer killed before its rename left its temp here; the next write beside it takes it away.
  await cleanStrayTemps(dir).catch(() => undefined);
}

/** `writeFileAtomic` for synchronous callers: the same steps and guarantees. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const dir = path.dirname(file);
  ensureDirDurableSync(dir);
  const temp = tempPathFor(file);
  let renamed = false;
  try {
    const fd = fsSync.openSync(temp, 'wx', options.mode);
    try {
      if (options.mode !== undefined) fsSync.fchmodSync(fd, options.mode);
      fsSync.writeFileSync(fd, data);
      fsSync.fsyncSync(fd);
    } finally {
      fsSync.closeSync(fd);
    }
    if (options.failpoint) failpoint(options.failpoint);
    fsSync.renameSync(temp, file);
    renamed = true;
  } finally {
    if (!renamed) fsSync.rmSync(temp, { force: true });
  }
  fsyncDirSync(dir);
  cleanStrayTempsSync(dir);
}

/** `cleanStrayTemps(dir)` (not recursive) for synchronous writers; best effort, as a cleaner. */
function cleanStrayTempsSync(dir: string): void {
  let names: string[];
  try {
    names = fsSync.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const owner = tempOwner(name);
    if (owner === undefined || pidRunning(owner)) continue;
    try {
      fsSync.rmSync(path.join(dir, name), { recursive: true, force: true });
    } catch {
      // another cleaner took it, or it cannot go: the next write tries again
    }
  }
}

/** fsync a directory, making entries created, renamed or removed in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch (e) {
    // A few filesystems cannot fsync a directory; there is nothing more we can do there.
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
  } finally {
    await handle.close();
  }
}

function fsyncDirSync(dir: string): void {
  const fd = fsSync.openSync(dir, 'r');
  try {
    fsSync.fsyncSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
  } finally {
    fsSync.closeSync(fd);
  }
}

/** mkdir -p, fsyncing the parent of every directory it creates so the new entries survive a crash. */
export async function ensureDirDurable(dir: string): Promise<void> {
  try {
    if ((await fs.stat(dir)).isDirectory()) return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const parent = path.dirname(dir);
  if (parent !== dir) await ensureDirDurable(parent);
  try {
    await fs.mkdir(dir);
  } catch (e) {
    // EEXIST: created concurrently by another writer (or not a directory: the next open reports that).
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return;
  }
  await fsyncDir(parent);
}

function ensureDirDurableSync(dir: string): void {
  try {
    if (fsSync.statSync(dir).isDirectory()) return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const parent = path.dirname(dir);
  if (parent !== dir) ensureDirDurableSync(parent);
  try {
    fsSync.mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return;
  }
  fsyncDirSync(parent);
}

/**
 * Removes temp files (and tombstone directories of interrupted removals) whose writer is no longer running.
 * Returns the paths removed. Temps of running processes are left alone: their write may still be in flight.
 */
export async function cleanStrayTemps(dir: string, options: { recursive?: boolean } = {}): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const p = path.join(dir, entry.name);
    const owner = tempOwner(entry.name);
    if (owner !== undefined) {
      if (!pidRunning(owner)) {
        await fs.rm(p, { recursive: true, force: true });
        removed.push(p);
      }
    } else if (options.recursive && entry.isDirectory()) {
      removed.push(...(await cleanStrayTemps(p, options)));
    }
  }
  return removed;
}
