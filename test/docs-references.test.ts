// docs/ against the code: the two generated references (docs/reference/manifest.md from the JSON Schemas,
// docs/reference/cli.md from the command definitions) are what scripts/gen-docs.js makes of them now; every
// `kuke ...` line the guides quote parses as a real command with real flags; and the troubleshooting guide names
// every check `kuke doctor` can report.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCli } from '../src/cli/index';

const REPO_ROOT = path.resolve(__dirname, '../..');
const DOCS = path.join(REPO_ROOT, 'docs');
const generator = require(path.join(REPO_ROOT, 'scripts', 'gen-docs.js')) as {
  renderAll(): Record<string, string>;
  renderManifest(): string;
  renderCli(): string;
  inlineRefs(schema: object): Record<string, unknown>;
  prose(text: string): string;
  cell(text: string): string;
};
const read = (rel: string) => fs.readFileSync(path.join(DOCS, rel), 'utf8');

/** The first line where two texts part, for a message that says where to look. */
function firstDifference(have: string, want: string): string {
  const a = have.split('\n');
  const b = want.split('\n');
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `line ${i + 1}: have ${JSON.stringify(a[i])}, want ${JSON.stringify(b[i])}`;
}

test('docs/reference/*.md are what scripts/gen-docs.js makes of the schemas and the commands', () => {
  const rendered = generator.renderAll();
  assert.equal(Object.keys(rendered).sort(), ['cli.md', 'manifest.md']);
  for (const [name, want] of Object.entries(rendered)) {
    const file = path.join(DOCS, 'reference', name);
    const have = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (have !== want) {
      assert.unreachable(
        `docs/reference/${name} is out of date with the code: run \`npm run docs\` and commit it (${firstDifference(have, want)})`,
      );
    }
  }
});

test('the manifest reference lists every kind and every field of the schemas', () => {
  const page = generator.renderManifest();
  const { SCHEMAS, VOLUME_SCHEMA } = require('../src/host/validation/schemas') as typeof import('../src/host/validation/schemas');
  const { SECRET_SCHEMA } = require('../src/host/secrets/secret-schema') as typeof import('../src/host/secrets/secret-schema');
  for (const kind of [...Object.keys(SCHEMAS), 'Volume', 'Secret']) assert.match(page, new RegExp(`^## ${kind}$`, 'm'));
  // Fields picked at depth, from each source: a walker that stopped early or skipped list items fails here.
  for (const field of [
    'spec.containers[].volumes[].volumeRef.name',
    'spec.containers[].secrets[].secretRef.realm',
    'spec.containers[].devices[].permissions',
    'spec.network.allowFrom',
    'metadata.labels.<key>',
    'spec.reclaimPolicy',
    'spec.fromFile',
  ]) {
    assert.ok(page.includes(`| \`${field}\``), `${field} is not in the manifest reference`);
  }
  assert.ok(VOLUME_SCHEMA && SECRET_SCHEMA);
  // A field's enum and description, as the schema has them, show up in its row.
  type Node = { properties: Record<string, Node>; items: Node; enum: string[]; description?: string };
  const policy = (SCHEMAS.Cell as unknown as Node).properties.spec.properties.containers.items.properties.restartPolicy;
  const row = page.split('\n').find((l) => l.startsWith('| `spec.containers[].restartPolicy`'));
  assert.ok(row, 'no row for spec.containers[].restartPolicy');
  assert.ok(row.includes(`one of ${policy.enum.map((v) => `\`${v}\``).join(', ')}`), row);
  if (policy.description) assert.ok(row.includes(generator.cell(generator.prose(policy.description))), row);
});

test('a schema that shares parts by $ref is walked as if they were written in place', () => {
  const schema = {
    $id: 'x',
    $defs: { name: { type: 'string', maxLength: 63 }, node: { type: 'object', properties: { child: { $ref: '#/$defs/node' } } } },
    type: 'object',
    properties: { a: { $ref: '#/$defs/name', description: 'own words' }, tree: { $ref: '#/$defs/node' } },
  };
  const inlined = generator.inlineRefs(schema) as { properties: Record<string, Record<string, unknown>> };
  assert.equal(inlined.properties.a, { type: 'string', maxLength: 63, description: 'own words' });
  // a type that refers to itself is walked once, then marked
  assert.equal(inlined.properties.tree, {
    type: 'object',
    properties: { child: { type: 'object', description: '(recursive: #/$defs/node)' } },
  });
  assert.throws(() => generator.inlineRefs({ $id: 'y', properties: { a: { $ref: 'https://elsewhere/x.json' } } }), /not internal/);
  assert.throws(() => generator.inlineRefs({ $id: 'z', properties: { a: { $ref: '#/$defs/none' } } }), /points at nothing/);
});

test('the CLI reference has every command, grouped by category, with its options and examples', () => {
  const page = generator.renderCli();
  const defs = buildCli().definitions();
  assert.ok(defs.length > 30);
  for (const d of defs) {
    assert.match(page, new RegExp(`^### ${d.path}$`, 'm'), `${d.path} is not in the CLI reference`);
    for (const [, example] of d.examples ?? []) assert.ok(page.includes(example), `${d.path}: example ${example} missing`);
  }
  for (const category of ['Resources', 'Cells', 'Images', 'Host and daemon']) assert.match(page, new RegExp(`^## ${category}$`, 'm'));
  const rows = page.split('\n');
  const runPath = defs[0].options.find((o) => o.definition === '--run-path #0');
  assert.ok(runPath?.description);
  const globalRows = rows.filter((l) => l.startsWith('| `--run-path VALUE`'));
  assert.equal(globalRows.length, 1, 'global options listed once');
  assert.ok(globalRows[0].includes(generator.cell(generator.prose(runPath.description))), globalRows[0]);
  const cascade = defs.find((d) => d.path === 'kuke purge')?.options.find((o) => o.definition === '--cascade');
  assert.ok(cascade?.description);
  const start = page.indexOf('### kuke purge');
  const purge = page.slice(start, page.indexOf('\n### ', start + 1));
  assert.ok(purge.includes(generator.cell(generator.prose(cascade.description))), "a command's own option, with its description");
  assert.match(page, /Also: `kuke g`\./, 'aliases');
});

/** The shell words of one command line (quotes honoured, no expansion). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** Every `kuke ...` command in the ```sh blocks of a guide: pipelines and `&&` lists split, comments dropped. */
function kukeLines(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/```(?:sh|bash|console)\n([\s\S]*?)```/g)) {
    for (const raw of block[1].split('\n')) {
      const line = raw.replace(/^\s*(\$|#)\s+(?=kuke|npx|sudo)/, '').replace(/\s+#\s.*$/, '');
      if (/^\s*#/.test(line)) continue;
      for (const part of line.split(/&&|\|\||;|\||\$\(|\)/)) {
        const cmd = part.trim().replace(/^(sudo|npx)\s+/, '');
        if (/^kuke(\s|$)/.test(cmd)) out.push(cmd);
      }
    }
  }
  return out;
}

/** Whether clipanion accepts the line as a kuke command (verb, flags and operands), and why not. */
function parses(line: string): string | undefined {
  try {
    buildCli().process(words(line).slice(1));
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

test('the parse check itself refuses an unknown verb and an unknown flag', () => {
  assert.is(parses('kuke get cells --realm demo'), undefined);
  assert.ok(parses('kuke frobnicate'));
  assert.ok(parses('kuke get cells --no-such-flag'));
  assert.equal(kukeLines('```sh\nkuke init   # sets up\nsudo kuke get cells | grep x && kuke version\n```\n'), [
    'kuke init',
    'kuke get cells',
    'kuke version',
  ]);
});

for (const guide of ['getting-started.md', 'concepts.md', 'troubleshooting.md']) {
  test(`every kuke command line of docs/${guide} is a real command with real flags`, () => {
    const lines = kukeLines(read(guide));
    if (guide === 'getting-started.md') assert.ok(lines.length >= 8, `only ${lines.length} kuke lines found`);
    const bad = lines.map((l) => [l, parses(l)]).filter(([, why]) => why);
    assert.equal(bad, [], 'lines kuke does not accept');
  });
}

test('every `kuke VERB` the guides name in prose is a verb kuke has', () => {
  const paths = buildCli()
    .definitions()
    .flatMap((d) => [d.path.split(' ').slice(1).join(' ')]);
  const verbs = new Set(paths.map((p) => p.split(' ')[0]));
  for (const guide of ['getting-started.md', 'concepts.md', 'troubleshooting.md']) {
    const named = [...read(guide).matchAll(/`kuke ([a-z-]+)[^`]*`/g)].map((m) => m[1]);
    assert.ok(named.length > 0, guide);
    assert.equal(
      named.filter((v) => !verbs.has(v) && !['g', 'c', 'd', 'p', 'k', 'att', 'logs', 'images', 'pull', 'rmi'].includes(v)),
      [],
      `${guide}: kuke verbs that do not exist`,
    );
  }
});

/** The check ids of `kuke doctor`, read from the diagnose services' sources (a template keeps its fixed prefix). */
function doctorChecks(): string[] {
  const sources = [
    'plugins/containerd/diagnose.ts',
    'plugins/cni/diagnose.ts',
    'plugins/cgroupv2/diagnose.ts',
    'plugins/store-yaml/index.ts',
    'src/host/controller/controller.ts',
  ];
  const checks: string[] = [];
  for (const rel of sources) {
    const text = fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8');
    const found = [...text.matchAll(/check(?::|\s*=)\s*(?:'([^']+)'|`([^`$]+)(?:`|\$\{))/g)].map((m) => m[1] ?? m[2]);
    assert.ok(found.length > 0, `${rel}: no check ids found (did the diagnose code move?)`);
    checks.push(...found);
  }
  return [...new Set(checks)];
}

test('docs/troubleshooting.md explains every check kuke doctor reports', () => {
  const guide = read('troubleshooting.md');
  const checks = doctorChecks();
  for (const id of ['containerd', 'cni.ip_forward', 'store.run-path', 'layout', 'cni.plugin.', 'controller '])
    assert.ok(checks.includes(id), id);
  assert.equal(
    checks.filter((c) => !guide.includes(`\`${c}`)),
    [],
    'checks the guide does not name (as a code span)',
  );
  for (const service of ['runtime.diagnose', 'network.diagnose', 'cgroups.diagnose', 'store.diagnose'])
    assert.ok(guide.includes(service), service);
});

/** GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to dashes. */
const anchorOf = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');

test('docs/ links: every relative link of the guides and references points at a file and heading that exist', () => {
  const files = ['getting-started.md', 'concepts.md', 'troubleshooting.md', 'reference/manifest.md', 'reference/cli.md'];
  const broken: string[] = [];
  let anchors = 0;
  for (const rel of files) {
    const from = path.join(DOCS, rel);
    const text = fs.readFileSync(from, 'utf8').replace(/`[^`\n]*`/g, '');
    for (const m of text.matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
      if (/^[a-z]+:/.test(m[1])) continue;
      const target = m[1] ? path.resolve(path.dirname(from), m[1]) : from;
      if (!fs.existsSync(target)) {
        broken.push(`${rel}: ${m[1]}`);
        continue;
      }
      if (!m[2] || !target.endsWith('.md')) continue;
      anchors++;
      const headings = [...fs.readFileSync(target, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((h) => anchorOf(h[1]));
      if (!headings.includes(m[2])) broken.push(`${rel}: ${m[1]}#${m[2]} (no such heading)`);
    }
  }
  assert.ok(anchors > 10, `only ${anchors} links with a heading were checked`);
  assert.equal(broken, []);
});

test.run();
