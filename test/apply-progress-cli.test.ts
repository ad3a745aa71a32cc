// `kuke apply` on a pseudo-terminal (util-linux `script`), in-process and through a store-only kukeond: the lines
// are redrawn in place while it runs, and the screen ends exactly as the piped output reads, which stays as it was.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDaemon } from './helpers/daemon';
import { KUKE_BIN, REPO_ROOT, STORE_ONLY_CONFIG, childEnv, kuke } from './helpers/kuke';
import { Screen } from './helpers/screen';
import { tmpDir } from './helpers/tmp';

const cells = Array.from(
  { length: 6 },
  (_, k) => `kind: Cell
metadata: { name: c${k} }
spec: { realmId: main, spaceId: blog, stackId: wp, containers: [{ id: app, image: busybox }] }
`,
);
const MANIFEST = `kind: Realm\nmetadata: { name: main }\n---\n${cells.join('---\n')}`;
const PIPED = [
  'realm/main created',
  'space/main/blog created (implicit parent)',
  'stack/main/blog/wp created (implicit parent)',
  ...cells.map((_, k) => `cell/main/blog/wp/c${k} created`),
]
  .map((l) => `${l}\n`)
  .join('');

/** Runs kuke on a terminal `script` makes; returns what the terminal received. */
function onTerminal(args: string[], env: Record<string, string>): { code: number; raw: string } {
  const command = [process.execPath, KUKE_BIN, ...args].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {
    cwd: REPO_ROOT,
    env: childEnv({ TERM: 'xterm', ...env }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status ?? -1, raw: r.stdout };
}

function setup() {
  const dir = tmpDir('kukeon-apply-tty-');
  const config = path.join(dir, 'kukeon.yaml');
  fs.writeFileSync(config, STORE_ONLY_CONFIG);
  const manifest = path.join(dir, 'cells.yaml');
  fs.writeFileSync(manifest, MANIFEST);
  return { dir, config, manifest };
}

test('in-process: the piped output is unchanged; on a terminal the lines settle to exactly it', () => {
  const s = setup();
  const piped = kuke(['apply', '-f', s.manifest, '--run-path', path.join(s.dir, 'piped'), '--config', s.config]);
  assert.is(piped.code, 0, piped.stderr);
  assert.is(piped.stdout, PIPED);
  assert.is(piped.stderr, '');
  const tty = onTerminal(['apply', '-f', s.manifest, '--run-path', path.join(s.dir, 'tty'), '--config', s.config], {});
  assert.is(tty.code, 0, tty.raw);
  assert.match(tty.raw, /\x1b\[\d+A\r\x1b\[J/, 'redrawn in place');
  assert.match(tty.raw, /cell\/main\/blog\/wp\/c\d (applying|creating)\.\.\./, 'a line says what its cell is doing');
  const screen = new Screen();
  screen.write(tty.raw);
  assert.is(screen.text(), PIPED);
  // TERM=dumb cannot move the cursor: the lines as a pipe gets them
  const dumb = onTerminal(['apply', '-f', s.manifest, '--run-path', path.join(s.dir, 'dumb'), '--config', s.config], { TERM: 'dumb' });
  assert.is(dumb.raw.replace(/\r\n/g, '\n'), PIPED);
});

test('through kukeond: the same progress arrives over the socket and settles to the same screen', async () => {
  const s = setup();
  const socket = path.join(s.dir, 'sock', 'kukeond.sock');
  const daemon = await startDaemon({ socket, runPath: path.join(s.dir, 'state'), config: s.config });
  try {
    const tty = onTerminal(['apply', '-f', s.manifest], { KUKEON_SOCKET: socket });
    assert.is(tty.code, 0, tty.raw);
    assert.match(tty.raw, /\x1b\[\d+A\r\x1b\[J/, 'redrawn in place');
    assert.match(tty.raw, /cell\/main\/blog\/wp\/c\d (applying|creating)\.\.\./);
    const screen = new Screen();
    screen.write(tty.raw);
    assert.is(screen.text(), PIPED);
    const again = kuke(['apply', '-f', s.manifest], { env: { KUKEON_SOCKET: socket } });
    // parents that exist are no longer implicit items
    const unchanged = PIPED.split('\n').filter((l) => l && !l.endsWith('(implicit parent)'));
    assert.is(again.stdout, unchanged.map((l) => `${l.replace(' created', ' unchanged')}\n`).join(''));
  } finally {
    await daemon.stop();
  }
});

test.run();
