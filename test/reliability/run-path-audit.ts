// What a fault may not leave under a run path once the command that met it has exited: a torn, empty or
// unparseable YAML document, a document in the wrong place, a temp file of a finished writer, or the directory
// of a resource without its document (a half-made resource that lists as nothing but is not gone either).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { tempOwner } from '../../sdk/atomic-write';
import { SCOPED_DIRS } from '../../sdk/scoped-kinds';

const DOC_FILES = ['realm.yaml', 'space.yaml', 'stack.yaml', 'cell.yaml'];
const KINDS = ['Realm', 'Space', 'Stack', 'Cell'];

/** Every problem found under `runPath` (empty when it is clean); `skip` names top-level entries to ignore. */
export function auditRunPath(runPath: string, skip: readonly string[] = []): string[] {
  const problems: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      problems.push(`${dir}: cannot list (${(e as Error).message})`);
      return;
    }
    const names = entries.map((e) => e.name);
    // Depth 1..4: a realm, space, stack or cell directory must hold its document (`run/` is the runtime's).
    if (depth >= 1 && depth <= 4 && !names.includes(DOC_FILES[depth - 1]))
      problems.push(`${dir}: a ${KINDS[depth - 1]} directory without ${DOC_FILES[depth - 1]}`);
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (depth === 0 && (e.name === 'run' || skip.includes(e.name))) {
        if (e.name === 'run') for (const t of temps(p)) problems.push(`${t}: temp file left by a finished writer`);
        continue;
      }
      if (tempOwner(e.name) !== undefined) problems.push(`${p}: temp file left by a finished writer`);
      else if (e.isDirectory()) {
        // A scope's Secrets (src/host/secrets/): their own files, 0600 in a 0700 directory.
        if (depth >= 1 && e.name === SCOPED_DIRS.Secret) checkSecrets(p, problems);
        // A realm's, space's or stack's Volumes (src/host/scoped/): a document per volume beside its data directory.
        else if (depth >= 1 && depth <= 3 && e.name === SCOPED_DIRS.Volume) checkVolumes(p, problems);
        // Below a cell only its containers are documents.
        else if (depth === 4 && e.name === 'containers') checkContainers(p, problems);
        else if (depth < 4) walk(p, depth + 1);
      } else if (e.name.endsWith('.yaml')) checkDoc(p, KINDS[DOC_FILES.indexOf(e.name)], path.basename(dir), problems);
    }
  };
  walk(runPath, 0);
  return problems;
}

function checkSecrets(dir: string, problems: string[]): void {
  if ((fs.statSync(dir).mode & 0o777) !== 0o700) problems.push(`${dir}: a secrets directory that is not 0700`);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (tempOwner(e.name) !== undefined) problems.push(`${p}: temp file left by a finished writer`);
    else if (e.name.endsWith('.yaml')) {
      if ((fs.statSync(p).mode & 0o777) !== 0o600) problems.push(`${p}: a Secret that is not 0600`);
      let doc: { kind?: string; metadata?: { name?: string }; spec?: { data?: unknown } } | undefined;
      try {
        doc = YAML.parse(fs.readFileSync(p, 'utf8'));
      } catch {
        problems.push(`${p}: a Secret that does not parse`); // never its text: it is a value
        continue;
      }
      if (doc?.kind !== 'Secret' || doc.metadata?.name !== e.name.slice(0, -5) || typeof doc.spec?.data !== 'string')
        problems.push(`${p}: not a whole Secret named ${e.name.slice(0, -5)}`);
    }
  }
}

function checkVolumes(dir: string, problems: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (tempOwner(e.name) !== undefined) problems.push(`${p}: temp file left by a finished writer`);
    // `<name>/` is the volume's data: the workload's, not kukeon's to judge
    else if (e.isFile() && e.name.endsWith('.yaml')) checkDoc(p, 'Volume', e.name.slice(0, -5), problems);
  }
}

function checkContainers(dir: string, problems: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (tempOwner(e.name) !== undefined) problems.push(`${p}: temp file left by a finished writer`);
    else if (e.name.endsWith('.yaml')) checkDoc(p, 'Container', e.name.slice(0, -5), problems);
  }
}

function checkDoc(file: string, kind: string | undefined, name: string, problems: string[]): void {
  if (!kind) return; // another yaml file of a resource (not a document)
  const text = fs.readFileSync(file, 'utf8');
  if (!text.trim()) {
    problems.push(`${file}: empty document`);
    return;
  }
  let doc: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown }; spec?: unknown };
  try {
    doc = YAML.parse(text);
  } catch (e) {
    problems.push(`${file}: torn document (${(e as Error).message.split('\n')[0]})`);
    return;
  }
  if (doc?.apiVersion !== 'v1beta1' || doc.kind !== kind || doc.metadata?.name !== name || typeof doc.spec !== 'object')
    problems.push(`${file}: not a whole ${kind} "${name}" (${JSON.stringify(doc).slice(0, 120)})`);
}

/** Temp files anywhere under `dir`. */
function temps(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (tempOwner(e.name) !== undefined) out.push(p);
    else if (e.isDirectory()) out.push(...temps(p));
  }
  return out;
}

/** Every file under `dir` (relative path -> sha256 of its bytes), for "nothing of it changed". */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        out[`${path.relative(dir, p)}/`] = 'dir';
        walk(p);
      } else out[path.relative(dir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}
