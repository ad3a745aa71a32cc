// The FIFOs containerd's shim gives an attachable container's terminal through: `stdin` (what is typed) and
// `stdout` (the console's output) in `<runtimeDir>/containerd/io/<namespace>/<containerd id>/`, with `console.json`
// saying whose they are, so a restarted kukeond finds and re-opens them. Node has no mkfifo(3): mkfifo(1) makes them.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../../../sdk';

/** Whose FIFOs a directory holds. */
export interface ConsoleMeta {
  namespace: string;
  containerdId: string;
  cellPath: string[];
  container: string;
  /** The container's log file, where its output is appended (`kuke log`). */
  logPath: string;
  /** false: pipes, not a terminal (stdout and stderr apart); absent in what older daemons wrote: a terminal. */
  terminal?: boolean;
  /** Without a terminal: whether its stdin is open to clients (else the task reads /dev/null). */
  stdin?: boolean;
  /** The first client's end of input closes the task's stdin. */
  stdinOnce?: boolean;
}

export interface FifoPaths {
  dir: string;
  stdin: string;
  stdout: string;
  /** Without a terminal only. */
  stderr: string;
}

/** Whether the container's stdin is a FIFO clients write to: always with a terminal, else when asked for. */
export function hasStdin(meta: ConsoleMeta): boolean {
  return meta.terminal !== false || meta.stdin === true;
}

export function ioRoot(runtimeDir: string): string {
  return path.join(runtimeDir, 'containerd', 'io');
}

export function fifoPaths(runtimeDir: string, namespace: string, containerdId: string): FifoPaths {
  const dir = path.join(ioRoot(runtimeDir), namespace, containerdId);
  return { dir, stdin: path.join(dir, 'stdin'), stdout: path.join(dir, 'stdout'), stderr: path.join(dir, 'stderr') };
}

/** Fresh FIFOs for a new task (a previous task's are replaced: their holders may still have them open). */
export function makeFifos(runtimeDir: string, meta: ConsoleMeta): FifoPaths {
  const p = fifoPaths(runtimeDir, meta.namespace, meta.containerdId);
  fs.rmSync(p.dir, { recursive: true, force: true });
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const fifos = [...(hasStdin(meta) ? [p.stdin] : []), p.stdout, ...(meta.terminal === false ? [p.stderr] : [])];
  execFileSync('mkfifo', ['-m', '0600', ...fifos], { stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileAtomicSync(path.join(p.dir, 'console.json'), `${JSON.stringify(meta)}\n`, { mode: 0o600 });
  return p;
}

export function removeFifos(runtimeDir: string, namespace: string, containerdId: string): void {
  const { dir } = fifoPaths(runtimeDir, namespace, containerdId);
  if (!fs.existsSync(dir)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.rmdirSync(path.dirname(dir)); // the namespace's directory, once its last task's FIFOs are gone
  } catch {
    // other tasks' FIFOs are in it
  }
}

/** Whose the task's FIFOs are and how they were made (its console.json), when they exist. */
export function readFifoMeta(runtimeDir: string, namespace: string, containerdId: string): ConsoleMeta | undefined {
  try {
    const meta = JSON.parse(
      fs.readFileSync(path.join(fifoPaths(runtimeDir, namespace, containerdId).dir, 'console.json'), 'utf8'),
    ) as ConsoleMeta;
    return meta.namespace === namespace && meta.containerdId === containerdId ? meta : undefined;
  } catch {
    return undefined; // none, or a directory being made or removed
  }
}

/** Every FIFO directory left by earlier tasks (a daemon restart), with whose it is; unreadable ones are skipped. */
export function listFifoDirs(runtimeDir: string): ConsoleMeta[] {
  const found: ConsoleMeta[] = [];
  const root = ioRoot(runtimeDir);
  const dirs = (p: string) => {
    try {
      return fs.readdirSync(p, { withFileTypes: true }).filter((d) => d.isDirectory());
    } catch {
      return [];
    }
  };
  for (const ns of dirs(root))
    for (const id of dirs(path.join(root, ns.name))) {
      const meta = readFifoMeta(runtimeDir, ns.name, id.name);
      if (meta) found.push(meta);
    }
  return found;
}
