// `kuke apply`'s progress: the renderer played onto a test terminal (lines that settle in place, at most a
// screenful redrawn, cut to the width, the final screen exactly the piped output), the terminal's abilities
// (TERM=dumb, NO_COLOR, a pipe), and the controller's item events on a store-only host (every item reported in
// the report's order, its settled event equal to its report item).

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ApplyItem, ProgressEvent } from '../sdk';
import { createHost } from '../src/host';
import { applyItemText } from '../src/cli/output/apply-item-text';
import { ApplyProgressView } from '../src/cli/output/apply-progress';
import { terminalAbilities } from '../src/cli/output/terminal';
import { STORE_ONLY_CONFIG } from './helpers/kuke';
import { Screen } from './helpers/screen';
import { tmpDir } from './helpers/tmp';

const realm: ApplyItem = { ref: { kind: 'Realm', path: ['r'] }, action: 'created', implicit: true };
const space: ApplyItem = { ref: { kind: 'Space', path: ['r', 's'] }, action: 'unchanged', implicit: true };
const web: ApplyItem = { ref: { kind: 'Cell', path: ['r', 's', 'st', 'web'] }, action: 'created' };
const db: ApplyItem = {
  ref: { kind: 'Cell', path: ['r', 's', 'st', 'db'] },
  action: 'failed',
  error: 'image not found',
  code: 'KUKEON_E_IMAGE',
};

/** What a pipe gets for a report: stdout's line, then stderr's for a failed item (both on one terminal here). */
const piped = (items: ApplyItem[]) =>
  items
    .map((i) => applyItemText(i))
    .map((t) => t.out + (t.err ?? ''))
    .join('');

/** A view on a test terminal; stdout and stderr both go to it, as they do on a user's terminal. */
function terminal(rows = 24, columns = 80, color = false) {
  const screen = new Screen(rows);
  let raw = '';
  const out = {
    isTTY: true,
    rows,
    columns,
    write: (s: string) => {
      raw += s;
      return screen.write(s);
    },
  };
  let t = 0;
  const view = new ApplyProgressView(out, { write: (s: string) => screen.write(s) }, { color, tickMs: 0, now: () => t });
  return { screen, view, raw: () => raw, advance: (ms: number) => (t += ms) };
}

const ev = (e: ProgressEvent) => e;

test('lines show what each resource does and settle in place to the piped lines', () => {
  const { screen, view, raw, advance } = terminal();
  view.onProgress(ev({ kind: 'item', phase: 'applying', ref: realm.ref, implicit: true }));
  assert.is(screen.text().replace(/ \S 0\.0s/, ''), 'realm/r (implicit parent) applying...\n');
  advance(1500);
  view.onProgress(ev({ kind: 'item', phase: 'creating', ref: realm.ref, implicit: true }));
  assert.match(screen.text(), /^realm\/r \(implicit parent\) creating\.\.\. \S 1\.5s\n$/);
  view.onProgress(ev({ kind: 'item', phase: 'settled', item: realm }));
  view.onProgress(ev({ kind: 'item', phase: 'settled', item: space }));
  view.onProgress(ev({ kind: 'item', phase: 'applying', ref: web.ref }));
  view.onProgress(ev({ kind: 'item', phase: 'applying', ref: db.ref }));
  view.onProgress(ev({ kind: 'pull', image: 'busybox', event: { kind: 'bytes' } }));
  view.onProgress(ev({ kind: 'item', phase: 'pulling', ref: db.ref, image: 'docker.io/library/busybox:latest' }));
  view.onProgress(ev({ kind: 'item', phase: 'starting', ref: web.ref }));
  view.onProgress(ev({ kind: 'heartbeat' }));
  const live = screen.text().split('\n');
  assert.equal(live.slice(0, 2), ['realm/r created (implicit parent)', 'space/r/s unchanged (implicit parent)']);
  assert.match(live[2], /^cell\/r\/s\/st\/web starting\.\.\. \S 0\.0s$/);
  assert.match(live[3], /^cell\/r\/s\/st\/db pulling docker\.io\/library\/busybox:latest\.\.\. /);
  // the later line settles first: the one above it still moves, so it is redrawn in place
  view.onProgress(ev({ kind: 'item', phase: 'settled', item: db }));
  assert.match(screen.text(), /web starting\.\.\..*\ncell\/r\/s\/st\/db failed\n$/);
  view.onProgress(ev({ kind: 'item', phase: 'settled', item: web }));
  view.finish([realm, space, web, db]);
  assert.is(screen.text(), piped([realm, space, web, db]));
  assert.match(raw(), '\x1b[2A\r\x1b[J', 'redrawn with cursor movement');
  assert.not.match(raw(), /\x1b\[\d+m/, 'no colour when not asked');
});

test('at most a screenful moves; the rest is counted; the final screen still holds every line', () => {
  const { screen, view } = terminal(6);
  const cells: ApplyItem[] = Array.from({ length: 10 }, (_, k) => ({
    ref: { kind: 'Cell', path: ['r', 's', 'st', `c${k}`] },
    action: 'created',
  }));
  for (const c of cells) view.onProgress(ev({ kind: 'item', phase: 'applying', ref: c.ref }));
  const live = screen.text().trimEnd().split('\n');
  assert.is(live.length, 4, 'rows - 2 lines');
  assert.is(live[3], '... and 7 more');
  // settled out of order, as concurrent applies do
  for (const k of [3, 1, 0, 9, 2, 5, 4, 8, 7, 6]) view.onProgress(ev({ kind: 'item', phase: 'settled', item: cells[k] }));
  view.finish(cells);
  assert.is(screen.text(), piped(cells));
});

test('a live line is cut to the width (a wrapped one would break the redraw); the settled line is whole', () => {
  const { screen, view } = terminal(24, 30);
  const long: ApplyItem = { ref: { kind: 'Cell', path: ['realm', 'space', 'stack', 'a-rather-long-cell-name'] }, action: 'updated' };
  view.onProgress(ev({ kind: 'item', phase: 'updating', ref: long.ref }));
  assert.is(screen.text(), `${'cell/realm/space/stack/a-rather-long-cell-name updating...'.slice(0, 29)}\n`);
  view.onProgress(ev({ kind: 'item', phase: 'settled', item: long }));
  view.finish([long]);
  assert.is(screen.text(), 'cell/realm/space/stack/a-rather-long-cell-name updated\n');
});

test('a report in another order than its events still ends the screen with every piped line', () => {
  const { screen, view } = terminal();
  view.onProgress(ev({ kind: 'item', phase: 'settled', item: web }));
  view.finish([realm, web]);
  assert.ok(screen.text().endsWith(piped([realm, web])), screen.text());
});

test('an apply that fails as a whole leaves its settled lines and removes the moving ones', () => {
  const { screen, view } = terminal();
  view.onProgress(ev({ kind: 'item', phase: 'settled', item: realm }));
  view.onProgress(ev({ kind: 'item', phase: 'creating', ref: web.ref }));
  view.abandon();
  assert.is(screen.text(), piped([realm]));
});

test('colour marks the action only; without the escapes the screen is the piped text', () => {
  const { screen, view, raw } = terminal(24, 80, true);
  view.onProgress(ev({ kind: 'item', phase: 'settled', item: realm }));
  view.onProgress(ev({ kind: 'item', phase: 'settled', item: db }));
  view.finish([realm, db]);
  assert.match(raw(), 'realm/r \x1b[32mcreated\x1b[0m (implicit parent)\n');
  assert.match(raw(), 'cell/r/s/st/db \x1b[31mfailed\x1b[0m\n');
  assert.is(screen.text(), piped([realm, db]));
});

test('terminal abilities: a pipe neither redraws nor colours, TERM=dumb neither, NO_COLOR redraws without colour', () => {
  const write = () => true;
  assert.equal(terminalAbilities({ write }, {}), { redraw: false, color: false });
  assert.equal(terminalAbilities({ isTTY: true, write }, { TERM: 'xterm' }), { redraw: true, color: true });
  assert.equal(terminalAbilities({ isTTY: true, write }, { TERM: 'dumb' }), { redraw: false, color: false });
  assert.equal(terminalAbilities({ isTTY: true, write }, { TERM: 'xterm', NO_COLOR: '1' }), { redraw: true, color: false });
  assert.equal(terminalAbilities({ isTTY: true, write }, { TERM: 'xterm', NO_COLOR: '' }), { redraw: true, color: true });
});

test("the controller reports each item in its report's order and settles it to its report item", async () => {
  const dir = tmpDir('kukeon-progress-');
  fs.writeFileSync(path.join(dir, 'kukeon.yaml'), STORE_ONLY_CONFIG);
  const host = await createHost({ runPath: path.join(dir, 'state'), configPath: path.join(dir, 'kukeon.yaml'), env: {} });
  try {
    const cells = Array.from(
      { length: 9 },
      (_, k) => `kind: Cell
metadata: { name: c${k} }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - id: app
      image: busybox
      volumes: [{ kind: volume, source: cache, target: /cache }]
`,
    ).join('---\n');
    const manifest = `kind: Volume\nmetadata: { name: db, realm: main, space: blog }\nspec: {}\n---\n${cells}`;
    const events: ProgressEvent[] = [];
    const report = await host.api.apply({ text: manifest }, { onProgress: (e) => events.push(e) });
    assert.ok(report.items.length >= 14, `${report.items.length} items`);
    const key = (ref: ApplyItem['ref']) => `${ref.kind}/${ref.path.join('/')}`;
    const firstSeen: string[] = [];
    for (const e of events) {
      if (e.kind !== 'item') continue;
      const k = key(e.phase === 'settled' ? e.item.ref : e.ref);
      if (!firstSeen.includes(k)) firstSeen.push(k);
    }
    assert.equal(
      firstSeen,
      report.items.map((i) => key(i.ref)),
    );
    const settled = events.flatMap((e) => (e.kind === 'item' && e.phase === 'settled' ? [e.item] : []));
    assert.equal(
      [...settled].sort((a, b) => key(a.ref).localeCompare(key(b.ref))),
      [...report.items].sort((a, b) => key(a.ref).localeCompare(key(b.ref))),
    );
    const phases = events
      .filter((e) => e.kind === 'item' && e.phase !== 'settled' && e.ref.kind === 'Cell')
      .map((e) => (e as { phase: string }).phase);
    assert.ok(phases.includes('creating'), phases.join(','));
    // a second apply changes nothing: no line says it is creating or updating
    const again: ProgressEvent[] = [];
    await host.api.apply({ text: manifest }, { onProgress: (e) => again.push(e) });
    assert.not.ok(again.some((e) => e.kind === 'item' && (e.phase === 'creating' || e.phase === 'updating')));
  } finally {
    await host.close();
  }
});

test.run();
