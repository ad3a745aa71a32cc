// What the CRI front end remembers beside kukeon's own state: which cell a pod sandbox is and which container a
// CRI container is (CRI ids are opaque, kukeon's names readable: the record maps one to the other), and what
// the kubelet asked for that kukeon's documents do not hold (labels, annotations, log paths, security settings).
// One JSON file per id under `<run-path>/cri/`, written atomically; read once at start, then kept in memory.

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../sdk';
import type { Ref } from '../../sdk';

/** A CRI message as grpc-js decodes it (keepCase field names). */
// biome-ignore lint/suspicious/noExplicitAny: CRI messages are plain decoded protobuf objects
export type CriMessage = Record<string, any>;

export interface SandboxRecord {
  id: string;
  /** The cell: realm, space, stack, cell. */
  path: string[];
  config: CriMessage;
  runtimeHandler: string;
  createdAt: number;
  /** Set once StopPodSandbox ran: the sandbox is NOTREADY until removed. */
  stopped?: boolean;
}

export interface ContainerRecord {
  id: string;
  sandboxId: string;
  /** The container: its cell's path and its name there. */
  path: string[];
  config: CriMessage;
  /** The image as asked for, and the image id it resolved to. */
  image: string;
  imageRef: string;
  createdAt: number;
  /** The CRI log file (the sandbox's log_directory joined with the container's log_path), if any. */
  logPath?: string;
}

type Kind = 'sandboxes' | 'containers';

export class CriRecords {
  readonly sandboxes = new Map<string, SandboxRecord>();
  readonly containers = new Map<string, ContainerRecord>();
  private loaded = false;

  constructor(private readonly dir: string) {}

  /** Reads every record once (a record left half-written cannot exist: writes are atomic; an unreadable one is skipped). */
  load(): void {
    if (this.loaded) return;
    this.loaded = true;
    for (const kind of ['sandboxes', 'containers'] as const) {
      for (const name of this.fileNames(kind).filter((n) => n.endsWith('.json'))) {
        try {
          const rec = JSON.parse(fs.readFileSync(path.join(this.dir, kind, name), 'utf8'));
          if (kind === 'sandboxes') this.sandboxes.set(rec.id, rec);
          else this.containers.set(rec.id, rec);
        } catch {
          // a temp file or a foreign file: not a record
        }
      }
    }
  }

  /**
   * Forgets the records whose files another process removed: an in-process `kuke delete` or `purge` of a pod's
   * cell drops its files (the delete hook below runs there), not this daemon's memory. Two directory reads.
   */
  forgetRemoved(): void {
    for (const [kind, map] of [
      ['sandboxes', this.sandboxes],
      ['containers', this.containers],
    ] as const) {
      if (map.size === 0) continue;
      const files = new Set(this.fileNames(kind));
      for (const id of [...map.keys()]) if (!files.has(`${id}.json`)) map.delete(id);
    }
  }

  async putSandbox(rec: SandboxRecord): Promise<void> {
    await this.write('sandboxes', rec.id, rec);
    this.sandboxes.set(rec.id, rec);
  }

  async putContainer(rec: ContainerRecord): Promise<void> {
    await this.write('containers', rec.id, rec);
    this.containers.set(rec.id, rec);
  }

  async dropContainer(id: string): Promise<void> {
    this.containers.delete(id);
    fs.rmSync(this.file('containers', id), { force: true });
  }

  async dropSandbox(id: string): Promise<void> {
    for (const c of [...this.containers.values()]) if (c.sandboxId === id) await this.dropContainer(c.id);
    this.sandboxes.delete(id);
    fs.rmSync(this.file('sandboxes', id), { force: true });
    fs.rmSync(path.join(this.dir, 'pods', id), { recursive: true, force: true });
  }

  /** Forgets every record of a cell and its containers (its cell was deleted or purged through kuke). */
  async dropCell(cellPath: readonly string[]): Promise<void> {
    const key = cellPath.join('/');
    for (const s of [...this.sandboxes.values()]) if (s.path.join('/') === key) await this.dropSandbox(s.id);
  }

  sandboxOfCell(cellPath: readonly string[]): SandboxRecord | undefined {
    const key = cellPath.join('/');
    for (const s of this.sandboxes.values()) if (s.path.join('/') === key) return s;
    return undefined;
  }

  containerAt(ref: Ref): ContainerRecord | undefined {
    const key = ref.path.join('/');
    for (const c of this.containers.values()) if (c.path.join('/') === key) return c;
    return undefined;
  }

  /** A directory of the pod's own files (its resolv.conf). */
  podDir(id: string): string {
    return path.join(this.dir, 'pods', id);
  }

  /** The names in a kind's directory; none before its first record. */
  private fileNames(kind: Kind): string[] {
    try {
      return fs.readdirSync(path.join(this.dir, kind));
    } catch {
      return [];
    }
  }

  private file(kind: Kind, id: string): string {
    return path.join(this.dir, kind, `${id}.json`);
  }

  private async write(kind: Kind, id: string, rec: object): Promise<void> {
    fs.mkdirSync(path.join(this.dir, kind), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file(kind, id), JSON.stringify(rec), { mode: 0o600 });
  }
}
