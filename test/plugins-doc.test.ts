// docs/plugins.md against the code: it names every hook, every cell step (in the order they run) and every
// service, and names no hook, step, `phase.Kind` or service that does not exist. A renamed hook or step fails
// here until the guide follows it.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CELL_START_STEPS, CELL_STOP_STEPS, KINDS, PHASES } from '../sdk';
import type { Kind, ServiceName } from '../sdk';
import { CELL_CASES, STORE_CASES } from '../sdk/testkit';
import { createHooks } from '../src/host/hooks';

const REPO_ROOT = path.resolve(__dirname, '../..');
const DOC = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'plugins.md'), 'utf8');
/** The text of every `code span` in the guide. */
const SPANS = [...DOC.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);

/** The host's real hooks object, as plugins receive it. */
const hooks = createHooks({ current: () => 'doc-test', isActive: () => true }).host as unknown as Record<string, unknown> &
  Record<Keyed, { for(kind: Kind): unknown }>;
const HOOK_NAMES = Object.keys(hooks);
/** The hooks keyed by kind: the phases and the status waterfalls. */
const KEYED = [...PHASES, 'status'] as const;
type Keyed = (typeof KEYED)[number];
const STEPS: readonly string[] = [...CELL_START_STEPS, ...CELL_STOP_STEPS];
/** Exactly the service names of ServiceMap: tsc fails here when one is added or removed. */
const SERVICES: Record<ServiceName, true> = {
  store: true,
  'store.diagnose': true,
  'runtime.images': true,
  'runtime.logs': true,
  'runtime.wait': true,
  'runtime.events': true,
  'runtime.tasks': true,
  'runtime.exec': true,
  'runtime.console': true,
  'runtime.diagnose': true,
  'network.diagnose': true,
  'cgroups.diagnose': true,
  'cgroups.oom': true,
  api: true,
  cri: true,
};

test('the guide names every hook of the host', () => {
  assert.equal(HOOK_NAMES.sort(), [
    'cell',
    'create',
    'delete',
    'ociSpec',
    'plan',
    'purge',
    'start',
    'status',
    'stop',
    'update',
    'validate',
  ]);
  const missing = HOOK_NAMES.filter((h) => !SPANS.includes(h) && !DOC.includes(`hooks.${h}`) && !DOC.includes(`**${h}**`));
  assert.equal(missing, [], 'hooks the guide never names');
});

test('every hooks.<name> and <phase>.<Kind> the guide mentions exists', () => {
  const named = [...DOC.matchAll(/hooks\.([A-Za-z]+)/g)].map((m) => m[1]);
  assert.ok(named.length > 0);
  assert.equal(
    named.filter((h) => !HOOK_NAMES.includes(h)),
    [],
    'hooks.<name> in the guide that the host does not have',
  );
  // `hooks.create.for('Cell')`, `delete.Container`, `purge.<Kind>`, `delete.*`, `status.Cell`
  const forKind = [...DOC.matchAll(/hooks\.([a-z]+)\.for\('([A-Za-z]+)'\)/g)].map((m) => [m[1], m[2]]);
  const dotted = SPANS.map((s) => /^(create|start|stop|update|delete|purge)\.([A-Za-z<>*]+)$|^(status)\.([A-Z][A-Za-z]*)$/.exec(s))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => [m[1] ?? m[3], m[2] ?? m[4]]);
  assert.ok(forKind.length > 0 && dotted.length > 0);
  const wrong: string[] = [];
  for (const [phase, kind] of [...forKind, ...dotted]) {
    if (!(KEYED as readonly string[]).includes(phase)) wrong.push(`${phase}.${kind}: no such phase`);
    else if (kind === '<Kind>' || kind === '*') continue;
    else if (!(KINDS as readonly string[]).includes(kind)) wrong.push(`${phase}.${kind}: no such kind`);
    else {
      try {
        hooks[phase as Keyed].for(kind as Kind);
      } catch (e) {
        wrong.push(`${phase}.${kind}: ${(e as Error).message}`);
      }
    }
  }
  assert.equal(wrong, []);
});

test('the guide names every cell step, in the order the host runs them, and no step that does not exist', () => {
  const cell = hooks.cell as Record<string, unknown>;
  assert.equal(Object.keys(cell), STEPS);
  // The sequences written `a` → `b` → ...: one for start, one for stop, exactly the steps in order.
  const sequences = [...DOC.matchAll(/`[a-zA-Z]+`(?:\s*(?:\([^)]*\))?\s*→\s*`[a-zA-Z]+`)+/g)].map((m) =>
    [...m[0].matchAll(/`([a-zA-Z]+)`/g)].map((x) => x[1]),
  );
  assert.equal(sequences, [[...CELL_START_STEPS], [...CELL_STOP_STEPS]], 'the step sequences in the guide');
  // Any step-like name in a code span (prepare, startRoot*, stopWorkload*, attach*, detach*, release, verify) is
  // a real step: a step renamed in the code leaves its old name here.
  const stepLike = SPANS.filter((s) =>
    /^(prepare|release|verify|(start|stop)(Root|Workload)[A-Za-z]*|(attach|detach)[A-Z][A-Za-z]*)$/.test(s),
  );
  assert.ok(stepLike.length >= STEPS.length);
  assert.equal(
    stepLike.filter((s) => !STEPS.includes(s)),
    [],
    'step names in the guide that the host does not have',
  );
  for (const s of STEPS) assert.ok(SPANS.includes(s), `the guide never names step ${s}`);
});

test('the guide names every service and no service that does not exist', () => {
  const names = Object.keys(SERVICES);
  for (const s of names) assert.ok(SPANS.includes(s), `the guide never names service ${s}`);
  const serviceLike = SPANS.filter((s) => /^(store|runtime|network|cgroups|api)\.[a-z]+$/.test(s));
  assert.equal(
    serviceLike.filter((s) => !names.includes(s)),
    [],
    'service names in the guide that ServiceMap does not have',
  );
});

test('the guide lists every case of the kit by the name its report gives it', () => {
  const listed = (name: string) =>
    SPANS.includes(name) || SPANS.includes(STEPS.reduce((n, s) => n.replace(new RegExp(`after ${s}$`), 'after <step>'), name));
  assert.equal(
    STORE_CASES.filter((n) => !listed(n)),
    [],
    'store cases the guide does not list',
  );
  assert.equal(
    CELL_CASES.filter((n) => !listed(n)),
    [],
    'cell cases the guide does not list',
  );
});

test.run();
