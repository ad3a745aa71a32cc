// Black-box runs of the `kuke` CLI: spawns `node bin/kuke.js` (the compiled CLI, as a user runs it) with a
// scrubbed environment, a temp configuration file and a temp run path.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './tmp';

/** The repository root (this file runs from dist/test/helpers). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const KUKE_BIN = path.join(REPO_ROOT, 'bin', 'kuke.js');
/** A configuration that loads exactly the store: no runtime, network or cgroups plugin. */
export const STORE_ONLY_CONFIG = 'plugins:\n  store-yaml: {}\n';

export interface KukeResult {
  /** Exit code; -1 when the process died of a signal or did not start. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface KukeOptions {
  /** Text written to the child's stdin (stdin is closed either way). */
  input?: string;
  /** Extra environment; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** The parent's environment without anything that would steer kukeon (KUKEON_*, DEBUG), plus `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KUKEON_') && k !== 'DEBUG') env[k] = v;
  env.NO_COLOR = '1';
  env.FORCE_COLOR = '0';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `kuke ARGS` synchronously. */
export function kuke(args: string[], opts: KukeOptions = {}): KukeResult {
  const r = spawnSync(process.execPath, [KUKE_BIN, ...args], {
    cwd: REPO_ROOT,
    env: childEnv(opts.env),
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
  });
  if (r.error) return { code: -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error.message}` };
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `kuke ARGS` without blocking, so independent commands can run side by side. */
export function kukeAsync(args: string[], opts: KukeOptions = {}): Promise<KukeResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KUKE_BIN, ...args], {
      cwd: REPO_ROOT,
      env: childEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** Puts `--run-path` before a `--` (after which everything is a positional argument), else at the end. */
export function withRunPath(args: string[], runPath: string): string[] {
  const i = args.indexOf('--');
  return i < 0 ? [...args, '--run-path', runPath] : [...args.slice(0, i), '--run-path', runPath, ...args.slice(i)];
}

export interface KukeEnv {
  /** The temp directory holding the configuration, manifests and the run path. */
  dir: string;
  /** The run path (not created: the CLI creates it on its first write). */
  runPath: string;
  configPath: string;
  env: Record<string, string>;
  /** `kuke ARGS --run-path RUN` with KUKEON_CONFIG set. */
  run(args: string[], opts?: KukeOptions): KukeResult;
  runAsync(args: string[], opts?: KukeOptions): Promise<KukeResult>;
  /** Writes a file in the temp directory and returns its path. */
  file(name: string, text: string): string;
}

/** A temp directory with a configuration file (store-yaml only unless told) and a fresh run path under it. */
export function kukeEnv(config: string = STORE_ONLY_CONFIG): KukeEnv {
  const dir = tmpDir('kukeon-cli-');
  const configPath = path.join(dir, 'kukeon.yaml');
  fs.writeFileSync(configPath, config);
  const runPath = path.join(dir, 'state');
  const env = { KUKEON_CONFIG: configPath };
  return {
    dir,
    runPath,
    configPath,
    env,
    run: (args, opts = {}) => kuke(withRunPath(args, runPath), { ...opts, env: { ...env, ...opts.env } }),
    runAsync: (args, opts = {}) => kukeAsync(withRunPath(args, runPath), { ...opts, env: { ...env, ...opts.env } }),
    file(name, text) {
      const p = path.join(dir, name);
      fs.writeFileSync(p, text);
      return p;
    },
  };
}

/** Every file and directory under `root` (relative, `/`-separated, sorted), leaving out kukeon's `run/`. */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && e.name === 'run') continue;
      if (e.isDirectory()) {
        out.push(`${r}/`);
        walk(path.join(dir, e.name), r);
      } else out.push(r);
    }
  };
  walk(root, '');
  return out.sort();
}

/** The regular files of listTree(root). */
export function listFiles(root: string): string[] {
  return listTree(root).filter((p) => !p.endsWith('/'));
}

/** Each path of listTree(root) with its content and mtime, to show that nothing was written. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of listTree(root)) {
    if (rel.endsWith('/')) out[rel] = 'dir';
    else {
      const p = path.join(root, rel);
      out[rel] = `${fs.statSync(p).mtimeMs} ${fs.readFileSync(p, 'utf8')}`;
    }
  }
  return out;
}
