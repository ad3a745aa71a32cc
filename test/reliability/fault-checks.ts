// The checks every fault ends with: the error a user sees is clear and coded, and the tree a retry leaves is the
// one the manifest describes.

import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { cellPaths, type TreeShape } from './fault-manifests';

export interface CommandOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Internal error text that must never reach a user. */
const RAW = [
  /^\s+at .+\(.+:\d+:\d+\)$/m,
  /\b(TypeError|ReferenceError|RangeError|SyntaxError)\b/,
  /Maximum call stack/,
  /\[object Object\]/,
];

/**
 * A failure a user can act on: exit 1, every `Error:` line carries a KUKEON_E_ code, no stack trace or raw
 * JavaScript error, and each of `mentions` (a path, errno, a plugin) appears in stderr.
 */
export function assertClearFailure(what: string, r: CommandOutcome, mentions: (string | RegExp)[] = []): void {
  assert.is(r.code, 1, `${what}: exit ${r.code} (want 1)\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
  assert.ok(errors.length > 0, `${what}: no Error: line in stderr: ${r.stderr}`);
  for (const l of errors) assert.match(l, /\[KUKEON_E_[A-Z_]+\]$/, `${what}: an error without a code: ${l}`);
  for (const raw of RAW) assert.not.match(r.stderr, raw, `${what}: internal error text reached the user: ${r.stderr}`);
  for (const m of mentions) assert.match(r.stderr, m, `${what}: stderr does not mention ${m}: ${r.stderr}`);
}

export function assertOk(what: string, r: CommandOutcome): void {
  assert.is(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

const readDoc = (file: string) => YAML.parse(fs.readFileSync(file, 'utf8'));

/**
 * The realm of `shape` is whole under `runPath`: realm, spaces and stacks Ready, every cell with exactly its
 * containers, cells in `cellState` (Pending without a runtime, Ready with one).
 */
export function assertTree(runPath: string, realm: string, shape: TreeShape, cellState: string): void {
  const state = (...rel: string[]) => readDoc(path.join(runPath, ...rel))?.status?.state;
  assert.is(state(realm, 'realm.yaml'), 'Ready', `realm ${realm}`);
  for (let s = 0; s < shape.spaces; s++) {
    assert.is(state(realm, `sp${s}`, 'space.yaml'), 'Ready', `space ${realm}/sp${s}`);
    assert.is(state(realm, `sp${s}`, 'app', 'stack.yaml'), 'Ready', `stack ${realm}/sp${s}/app`);
  }
  for (const cell of cellPaths(realm, shape)) {
    const dir = path.join(runPath, ...cell);
    const doc = readDoc(path.join(dir, 'cell.yaml'));
    assert.is(doc?.status?.state, cellState, `cell ${cell.join('/')}: ${JSON.stringify(doc?.status)}`);
    const ids = fs
      .readdirSync(path.join(dir, 'containers'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -5))
      .filter((id) => id !== 'root')
      .sort();
    assert.equal(
      ids,
      Array.from({ length: shape.containers }, (_, k) => `w${k}`),
      `cell ${cell.join('/')} has its containers`,
    );
  }
}
