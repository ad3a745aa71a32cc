// What must hold right after a process was killed, and after the next operation: every YAML document under the
// run path parses, validates and reads back through the product's store; temp files and lock files of the dead
// process are gone once the next operation has run.

import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { type CellDoc, type ContainerDoc, type Kind, type Locks, refOf } from '../../sdk';
import { assembleCell } from '../../src/host/controller/cell-documents';
import { tempOwner } from '../../sdk/atomic-write';
import { YamlStore } from '../../plugins/store-yaml/yaml-store';
import { validateDocument } from '../../src/host/validation/validate-document';

/** Every file under `dir` (absolute paths), directories left out. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The kind a document file holds, by its name in the layout. */
const KIND_OF_FILE: Record<string, Kind> = { 'realm.yaml': 'Realm', 'space.yaml': 'Space', 'stack.yaml': 'Stack', 'cell.yaml': 'Cell' };

/**
 * A stored cell as a manifest holds it: the cell's own document with its container documents (`assembleCell`,
 * the product's own). A cell killed between its own write and its containers' has none yet; its own fields are
 * then validated with a stand-in container, since that state is one apply writes on purpose (cell first).
 */
function manifestCell(file: string, cell: Record<string, unknown>): Record<string, unknown> {
  const dir = path.join(path.dirname(file), 'containers');
  const containers = filesUnder(dir)
    .filter((f) => f.endsWith('.yaml') && tempOwner(path.basename(f)) === undefined && path.dirname(f) === dir)
    .map((f) => YAML.parse(fs.readFileSync(f, 'utf8')) as ContainerDoc);
  const assembled = assembleCell(cell as unknown as CellDoc, containers) as unknown as { spec: Record<string, unknown> };
  if (containers.length === 0) assembled.spec.containers = [{ id: 'stand-in', image: 'stand-in' }];
  return assembled as unknown as Record<string, unknown>;
}

/** A store that reads only: the checks never write (nor take locks). */
const NO_LOCKS: Locks = { with: (_name, fn) => fn() } as Locks;

/**
 * Problems with the documents under `runPath` (its `run/` left out): a YAML file that does not parse (strictly,
 * duplicate keys refused), does not validate as a manifest, sits where its kind and name do not belong, or that
 * the product's YamlStore does not read back as the same document.
 */
export async function documentProblems(runPath: string): Promise<string[]> {
  const problems: string[] = [];
  const store = new YamlStore(runPath, NO_LOCKS, { handEditRecheckMs: 0 });
  for (const file of filesUnder(runPath)) {
    const rel = path.relative(runPath, file);
    // a temp file, or anything in a tombstone (a deleted resource's directory renamed to a temp name before its
    // removal): the store never reads them, and the next run sweeps them (auditRunPath checks that)
    const inTemp = rel.split(path.sep).some((part) => tempOwner(part) !== undefined);
    if (rel.startsWith(`run${path.sep}`) || !file.endsWith('.yaml') || inTemp) continue;
    let doc: Record<string, unknown>;
    try {
      const text = fs.readFileSync(file, 'utf8');
      doc = YAML.parse(text, { uniqueKeys: true, strict: true });
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`not a map (${text.length} bytes)`);
    } catch (err) {
      problems.push(`${rel}: does not parse: ${(err as Error).message}`);
      continue;
    }
    try {
      validateDocument(doc.kind === 'Cell' ? manifestCell(file, doc) : doc, 1, {});
    } catch (err) {
      problems.push(`${rel}: does not validate: ${(err as Error).message}`);
      continue;
    }
    const base = path.basename(file);
    const dir = path.basename(path.dirname(file));
    const expected: { kind: Kind; name: string } | undefined = KIND_OF_FILE[base]
      ? { kind: KIND_OF_FILE[base], name: path.basename(path.dirname(file)) }
      : dir === 'containers'
        ? { kind: 'Container', name: base.replace(/\.yaml$/, '') }
        : undefined;
    const meta = doc.metadata as { name?: string } | undefined;
    if (!expected) problems.push(`${rel}: a YAML file where the layout has none`);
    else if (doc.kind !== expected.kind || meta?.name !== expected.name)
      problems.push(`${rel}: holds ${String(doc.kind)} ${meta?.name}, expected ${expected.kind} ${expected.name}`);
    else {
      try {
        const read = await store.get(refOf(doc as never));
        if (!read) problems.push(`${rel}: the store does not find it`);
      } catch (err) {
        problems.push(`${rel}: the store cannot read it: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}

/** Temp files (`.<name>.tmp-<pid>-<hex>`) under `dirs` last modified before `beforeMs`. */
export function staleTemps(dirs: string[], beforeMs = Number.POSITIVE_INFINITY): string[] {
  return dirs.flatMap((d) =>
    filesUnder(d).filter((f) => {
      if (tempOwner(path.basename(f)) === undefined) return false;
      try {
        return fs.statSync(f).mtimeMs < beforeMs;
      } catch {
        return false; // removed meanwhile
      }
    }),
  );
}

/** Lock files under `<runPath>/run/locks` whose holder is `pid` (as the lock file names it). */
export function locksHeldBy(runPath: string, pid: number): string[] {
  return filesUnder(path.join(runPath, 'run', 'locks')).filter((f) => {
    if (!f.endsWith('.lock')) return false;
    try {
      return (JSON.parse(fs.readFileSync(f, 'utf8')) as { pid?: number }).pid === pid;
    } catch {
      return false;
    }
  });
}

/** Lock files left under `<runPath>/run/locks` at all (no process holds one once every command has ended). */
export function lockFiles(runPath: string): string[] {
  return filesUnder(path.join(runPath, 'run', 'locks')).filter((f) => f.endsWith('.lock'));
}
