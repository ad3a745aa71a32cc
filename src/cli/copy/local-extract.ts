// Unpacks a cell's tar stream into a local destination without trusting it. node-tar's defaults stay on (no
// absolute paths, no `..`, never through a symlink), entries outside the source's top name are dropped, and
// what node-tar cannot do exactly is finished afterwards on paths proven inside the destination: the modes
// as archived (umask, the owner bits node-tar adds to directories, setuid cleared by chown) and symlink
// targets as archived (node-tar rewrites absolute and escaping ones; a symlink is data, as in docker cp).

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type ReadEntry, Unpack } from 'tar';
import { KukeonError } from '../../../sdk';
import { type LocalDestination, destinationConflict } from './local-destination';
import { entryName, rebaseName, topName } from './tar-names';

interface Written {
  type: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** A symlink's target as archived. */
  target?: string;
}

const isRoot = () => process.getuid?.() === 0;

function unsafe(name: string): boolean {
  return name.startsWith('/') || name.split('/').includes('..');
}

export class LocalExtract {
  private readonly unpack: Unpack;
  private readonly done: Promise<void>;
  private readonly written = new Map<string, Written>();
  private readonly placeholder = `.kukeon-cp-link-${randomUUID()}`;
  private readonly problems: string[] = [];
  /** The entries of a kind node-tar does not make (device nodes, FIFOs), skipped. */
  readonly unsupported: string[] = [];
  private top: string | undefined;
  private skipped = 0;
  private sawEnd = false;
  /** Set when the first entry shows the copy cannot be done; nothing is written then. */
  failure: KukeonError | undefined;

  constructor(
    private readonly dst: LocalDestination,
    private readonly onFailure: (err: KukeonError) => void = () => undefined,
  ) {
    this.unpack = new Unpack({
      cwd: dst.cwd,
      preserveOwner: isRoot(),
      filter: (_p, entry) => this.accept(entry as ReadEntry),
      onwarn: (code, message, data) => {
        // device nodes and FIFOs: node-tar makes none; skipped and said, not a failed copy
        if (code === 'TAR_ENTRY_UNSUPPORTED')
          this.unsupported.push(String((data?.entry as { path?: string } | undefined)?.path ?? message));
        else if (code !== 'TAR_ENTRY_INFO') this.problems.push(String(message));
      },
    });
    this.unpack.on('eof', () => {
      this.sawEnd = true;
    });
    this.done = new Promise((resolve, reject) => {
      this.unpack.on('error', reject);
      this.unpack.on('close', resolve);
    });
  }

  private fail(err: KukeonError): false {
    if (!this.failure) {
      this.failure = err;
      this.onFailure(err);
    }
    return false;
  }

  /** node-tar's filter: rebases the entry, or drops it. Runs before node-tar checks and writes the entry. */
  private accept(entry: ReadEntry): boolean {
    if (this.failure) return false;
    const name = entryName(entry.path);
    if (this.top === undefined) {
      this.top = topName(entry.path);
      if (this.top !== '.' && (this.top.includes('/') || unsafe(this.top)))
        return this.fail(
          new KukeonError('KUKEON_E_COPY', `the container sent an archive whose first entry is "${entry.path}", not the copied path`),
        );
      const conflict = destinationConflict(this.dst, entry.type === 'Directory');
      if (conflict) return this.fail(conflict);
    }
    const rebased = rebaseName(name, this.top, this.dst.rename);
    // '': the content of a directory copied into an existing one: the destination keeps its own metadata
    if (rebased === '') return false;
    if (rebased === undefined || unsafe(rebased)) {
      this.skipped++;
      return false;
    }
    entry.path = rebased;
    if (entry.type === 'Link') {
      const link = entry.linkpath === undefined ? undefined : rebaseName(entryName(entry.linkpath), this.top, this.dst.rename);
      if (link === undefined || link === '' || unsafe(link)) {
        this.skipped++;
        return false;
      }
      entry.linkpath = link;
    }
    const written: Written = { type: entry.type, mode: entry.mode, uid: entry.uid, gid: entry.gid };
    if (entry.type === 'SymbolicLink') {
      written.target = entry.linkpath;
      entry.linkpath = this.placeholder;
    }
    const abs = path.join(this.dst.cwd, rebased);
    this.written.delete(abs);
    this.written.set(abs, written);
    return true;
  }

  /** Takes the next chunk of the archive; resolves when node-tar can take more. */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.unpack.write(Buffer.from(chunk))) return undefined;
    return new Promise((resolve) => this.unpack.once('drain', resolve));
  }

  /** Ends the archive, waits for node-tar, then sets modes and symlink targets as archived. */
  async end(): Promise<void> {
    try {
      this.unpack.end();
      await this.done;
    } catch (err) {
      if (this.failure) throw this.failure;
      throw new KukeonError(
        'KUKEON_E_COPY',
        `${this.dst.path.given}: the archive from the container is damaged or ended before its end: ${(err as Error).message}`,
      );
    }
    if (this.failure) throw this.failure;
    this.finish();
    if (this.problems.length)
      throw new KukeonError(
        'KUKEON_E_COPY',
        `${this.dst.path.given}: ${this.problems.length} entr${this.problems.length === 1 ? 'y was' : 'ies were'} not written: ${this.problems.slice(0, 3).join('; ')}`,
      );
  }

  /** True when the archive reached its end-of-archive marker (a stream cut short did not). */
  get complete(): boolean {
    return this.sawEnd;
  }

  /** Entries dropped because they were not under the copied path (a well-behaved container sends none). */
  get droppedEntries(): number {
    return this.skipped;
  }

  /** True when `abs` is inside the destination and no component of its directory is a symlink. */
  private plainPath(abs: string): boolean {
    const dir = path.dirname(abs);
    if (dir !== this.dst.cwd && !dir.startsWith(`${this.dst.cwd}/`)) return false;
    try {
      return fs.realpathSync(dir) === dir;
    } catch {
      return false;
    }
  }

  private finish(): void {
    // deepest first: a directory's own mode (0500, say) is set after what was written in it
    for (const [abs, w] of [...this.written].reverse()) {
      if (w.type === 'SymbolicLink' || w.type === 'Link' || w.mode === undefined || !this.plainPath(abs)) continue;
      const st = lstatOrUndefined(abs);
      if (!st || st.isSymbolicLink()) continue;
      if ((st.mode & 0o7777) !== (w.mode & 0o7777)) fs.chmodSync(abs, w.mode & 0o7777);
    }
    for (const [abs, w] of this.written) {
      if (w.type !== 'SymbolicLink' || w.target === undefined || !this.plainPath(abs)) continue;
      const st = lstatOrUndefined(abs);
      if (!st?.isSymbolicLink() || fs.readlinkSync(abs) !== this.placeholder) continue;
      const tmp = `${abs}.${this.placeholder}`;
      fs.symlinkSync(w.target, tmp);
      if (isRoot() && w.uid !== undefined && w.gid !== undefined) fs.lchownSync(tmp, w.uid, w.gid);
      fs.renameSync(tmp, abs);
    }
  }
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}
