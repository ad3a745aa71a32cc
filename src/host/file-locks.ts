// Named locks shared by every kukeon process on the host. Node has no flock, so a lock is a file created with
// link(2): linking a fully written temp file onto the lock name is atomic and fails with EEXIST while someone
// holds it, so a lock file never exists half written. The file names its holder (pid, start time, boot id),
// which lets a waiter recover a lock whose holder died, was replaced by a reused pid, or predates a reboot.
// In front of the files sits an in-process mutex per name: callers in one process queue on it (first come,
// first served, woken the moment the holder releases), so only one of them at a time touches the file lock,
// which then only ever waits (polling) for other processes.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pidRunning, tempOwner, tempPathFor } from '../../sdk/atomic-write';
import { KukeonError, isKukeonError } from '../../sdk/errors';
import type { LockOptions, Locks } from '../../sdk/host';
import { isAlive, processIdentity, type ProcessIdentity } from './process-identity';

const DEFAULT_TIMEOUT_MS = 10_000;
/** A lock file we cannot parse is only treated as abandoned once it is this old (its writer may be odd, not dead). */
const UNPARSEABLE_GRACE_MS = 5_000;
const MAX_PLAIN_NAME = 180;

interface Holder extends ProcessIdentity {
  acquiredAt: string;
  /** Tells two acquisitions by the same process apart, so a release never removes a later holder's file. */
  token: string;
}

/** What a lock file held when we looked: its exact text (compared before any unlink) and who it names. */
interface Seen {
  text: string;
  holder?: Holder;
  mtimeMs: number;
}

/** One name's in-process queue: whether someone in this process holds it, and who waits, in arrival order. */
interface LocalQueue {
  held: boolean;
  waiters: { grant: () => void }[];
}

export class FileLocks implements Locks {
  private readonly timeoutMs: number;
  private ready?: Promise<void>;
  private readonly local = new Map<string, LocalQueue>();

  constructor(
    private readonly lockDir: string,
    defaults: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async with<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    await this.acquireLocal(name, timeoutMs);
    try {
      const release = await this.acquire(name, Math.max(0, deadline - Date.now()));
      let result: T;
      try {
        result = await fn();
      } catch (e) {
        // fn's error is the one the caller needs; a failing release must not replace it.
        await release().catch(() => undefined);
        throw e;
      }
      await release();
      return result;
    } finally {
      this.releaseLocal(name);
    }
  }

  /** Waits (without polling) until no one else in this process holds `name`; KUKEON_E_BUSY after `timeoutMs`. */
  private acquireLocal(name: string, timeoutMs: number): Promise<void> {
    let q = this.local.get(name);
    if (!q) this.local.set(name, (q = { held: false, waiters: [] }));
    if (!q.held) {
      q.held = true;
      return Promise.resolve();
    }
    const queue = q;
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const i = queue.waiters.indexOf(waiter);
        if (i >= 0) queue.waiters.splice(i, 1);
        reject(
          new KukeonError('KUKEON_E_BUSY', `lock "${name}" is held by pid ${process.pid} (this process) (waited ${timeoutMs} ms)`, {
            hint: `lock file ${this.lockPath(name)}`,
          }),
        );
      }, timeoutMs);
      queue.waiters.push(waiter);
    });
  }

  /** Hands `name` to the next waiter of this process (it stays held), or frees it. */
  private releaseLocal(name: string): void {
    const q = this.local.get(name);
    if (!q) return;
    const next = q.waiters.shift();
    if (next) next.grant();
    else this.local.delete(name);
  }

  /** `<lockDir>/<name>.lock`; names with other characters (or too long) are hashed so any string is safe. */
  lockPath(name: string): string {
    const plain = name.length > 0 && name.length <= MAX_PLAIN_NAME && /^[a-z0-9._-]+$/.test(name);
    const base = plain ? name : `h-${crypto.createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
    return path.join(this.lockDir, `${base}.lock`);
  }

  private async acquire(name: string, timeoutMs: number): Promise<() => Promise<void>> {
    const file = this.lockPath(name);
    try {
      await this.ensureDir();
      const deadline = Date.now() + timeoutMs;
      for (let attempt = 0; ; attempt++) {
        // A fresh holder text per attempt, so acquiredAt says when we got the lock, not when we began to wait.
        const text = holderText();
        if (await this.tryCreate(file, text)) return () => this.release(file, text);
        const seen = await readSeen(file);
        if (!seen) continue; // released between our link and our read: try again at once
        if (abandoned(seen) && (await this.recover(file, seen))) continue;
        if (Date.now() >= deadline) {
          const by = seen.holder ? `pid ${seen.holder.pid}` : 'an unknown holder (unreadable lock file)';
          throw new KukeonError('KUKEON_E_BUSY', `lock "${name}" is held by ${by} (waited ${timeoutMs} ms)`, {
            hint: `lock file ${file}`,
          });
        }
        await sleep(backoff(attempt));
      }
    } catch (e) {
      throw lockError(e, file);
    }
  }

  private async release(file: string, text: string): Promise<void> {
    try {
      // Only our own file: if a waiter judged us dead and took the lock, it is theirs now.
      await unlinkIfUnchanged(file, text);
    } catch (e) {
      throw lockError(e, file);
    }
  }

  /**
   * Removes a lock file whose holder is gone. A guard lock (`<lock>.steal`) serialises recoverers, and the
   * lock is re-read under it: without that, a slow recoverer could unlink the lock a faster one just took.
   * Returns true when something changed and the caller should retry at once.
   */
  private async recover(file: string, seen: Seen): Promise<boolean> {
    const guard = `${file}.steal`;
    const guardText = holderText();
    if (!(await this.tryCreate(guard, guardText))) {
      // Another recoverer is at work, unless the guard itself was left by a dead one.
      const other = await readSeen(guard);
      if (!other) return true;
      if (abandoned(other)) return unlinkIfUnchanged(guard, other.text);
      return false;
    }
    try {
      const now = await readSeen(file);
      if (now && now.text === seen.text) await fs.unlink(file).catch(ignoreMissing);
      return true;
    } finally {
      await unlinkIfUnchanged(guard, guardText);
    }
  }

  /**
   * Creates `file` holding `text`, or returns false if it exists. The text goes to a temp file first and link(2)
   * puts it in place atomically (EEXIST while held), so a lock file is never seen half written.
   */
  private async tryCreate(file: string, text: string): Promise<boolean> {
    // Named like every atomic writer's temp (`.<target>.tmp-<pid>-<hex>`), so one cleaner fits all.
    const temp = tempPathFor(file);
    try {
      try {
        await fs.writeFile(temp, text, { flag: 'wx' });
      } catch (e) {
        // The lock directory was removed under a long-running process (an uninstall, a test): recreate it.
        if (errno(e) !== 'ENOENT') throw e;
        await fs.mkdir(this.lockDir, { recursive: true });
        await fs.writeFile(temp, text, { flag: 'wx' });
      }
      await fs.link(temp, file);
      return true;
    } catch (e) {
      if (errno(e) === 'EEXIST') return false;
      throw e;
    } finally {
      // Also when the write failed (a full disk): writeFile made the temp before it could not fill it.
      await fs.unlink(temp).catch(() => undefined);
    }
  }

  /**
   * mkdir -p once, and drop what killed processes left: temp files, and lock files (and recovery guards) whose
   * holder is gone. A lock is otherwise recovered only when someone asks for it again, which never happens when
   * the dead holder's resource was removed meanwhile (a purge killed after the removal, then run again).
   */
  private ensureDir(): Promise<void> {
    this.ready ??= (async () => {
      await fs.mkdir(this.lockDir, { recursive: true });
      for (const entry of await fs.readdir(this.lockDir)) {
        const file = path.join(this.lockDir, entry);
        const owner = tempOwner(entry);
        if (owner !== undefined) {
          if (!pidRunning(owner)) await fs.unlink(file).catch(() => undefined);
          continue;
        }
        if (!entry.endsWith('.lock') && !entry.endsWith('.lock.steal')) continue;
        const seen = await readSeen(file).catch(() => undefined);
        if (!seen || !abandoned(seen)) continue;
        if (entry.endsWith('.steal')) await unlinkIfUnchanged(file, seen.text).catch(() => undefined);
        else await this.recover(file, seen).catch(() => undefined);
      }
    })().catch((e: unknown) => {
      this.ready = undefined; // let a later call try again
      throw e;
    });
    return this.ready;
  }
}

// This process's identity never changes; read /proc once.
let self: ProcessIdentity | undefined;

function holderText(): string {
  const me = (self ??= processIdentity());
  if (!me) throw new KukeonError('KUKEON_E_LOCK', 'cannot read this process identity from /proc (kukeon needs Linux /proc)');
  const holder: Holder = { ...me, acquiredAt: new Date().toISOString(), token: crypto.randomBytes(8).toString('hex') };
  return `${JSON.stringify(holder)}\n`;
}

async function readSeen(file: string): Promise<Seen | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw e;
  }
  try {
    // Text and mtime from one open file, so both describe the same lock file.
    const [text, stat] = await Promise.all([handle.readFile('utf8'), handle.stat()]);
    return { text, holder: parseHolder(text), mtimeMs: stat.mtimeMs };
  } finally {
    await handle.close();
  }
}

function parseHolder(text: string): Holder | undefined {
  try {
    const v = JSON.parse(text) as Partial<Holder>;
    if (v && typeof v.pid === 'number' && typeof v.startTime === 'number' && typeof v.bootId === 'string') return v as Holder;
  } catch {
    // unparseable: judged by its age
  }
  return undefined;
}

function abandoned(seen: Seen): boolean {
  if (seen.holder) return !isAlive(seen.holder);
  return Date.now() - seen.mtimeMs > UNPARSEABLE_GRACE_MS;
}

/** Unlinks `file` only if it still holds `text`; true if it is gone afterwards. */
async function unlinkIfUnchanged(file: string, text: string): Promise<boolean> {
  const now = await readSeen(file);
  if (!now) return true;
  if (now.text !== text) return false;
  await fs.unlink(file).catch(ignoreMissing);
  return true;
}

/** Jittered exponential backoff between 2 and 50 ms: short waits stay short, long ones do not spin. */
function backoff(attempt: number): number {
  const cap = Math.min(50, 2 << Math.min(attempt, 5));
  return 2 + Math.random() * (cap - 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function ignoreMissing(e: unknown): void {
  if (errno(e) !== 'ENOENT') throw e;
}

function lockError(e: unknown, file: string): KukeonError {
  if (isKukeonError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new KukeonError('KUKEON_E_LOCK', `cannot use lock file ${file}: ${message}`, {}, { cause: e });
}
