#!/usr/bin/env node
// Writes the two generated references of docs/:
//   docs/reference/manifest.md  from the JSON Schemas of every kind (KIND_SCHEMAS of
//                               src/host/validation/kind-schemas.ts)
//   docs/reference/cli.md       from kuke's clipanion commands (the COMMAND_MODULES table of src/cli/index.ts),
//                               read through clipanion's public API (Cli.definitions() and each class's paths)
//
//   npm run docs        (compiles first: this reads the compiled modules under dist/)
//   node scripts/gen-docs.js [OUTDIR]   (default docs/reference)
//
// Both pages go through Biome (as docs/api.md does), so `npm run format` leaves them as they are.
// test/docs-references.test.ts renders them in memory and fails when the committed files differ.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { formatted } = require('./gen-api-doc');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const REFERENCES = { 'manifest.md': renderManifest, 'cli.md': renderCli };

/** A compiled module of the tree; a missing build says what to do instead of a bare MODULE_NOT_FOUND. */
function compiled(rel) {
  const file = path.join(DIST, rel);
  if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: build first (npm run build), or the module moved`);
  return require(file);
}

/**
 * Markdown-safe prose: `*`, `<` and a `_` that could start or end emphasis escaped outside code spans (descriptions
 * say `<cell>/logs`, `kukeon:*`); KUKEON_RUN_PATH's inner underscores stay as they are.
 */
function prose(text) {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 ? part : part.replace(/[*<]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\$&')))
    .join('');
}
/** A table cell: one line, pipes escaped (GFM needs that inside code spans too). */
const cell = (s) => s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
const code = (s) => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);
const anchor = (heading) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

// ---------------------------------------------------------------------------------------------------------------
// Manifest reference

/** Patterns longer than this are left to `kuke schema KIND` (a table cell cannot hold the label-key regex). */
const SHORT_PATTERN = 48;

/** The type of a schema node as a reader writes it: `string`, `integer`, `object[]`, `integer or string`. */
function typeOf(s) {
  if (s.oneOf || s.anyOf) return [...new Set((s.oneOf || s.anyOf).map(typeOf))].join(' or ');
  if (s.const !== undefined) return typeof s.const;
  if (s.enum) return [...new Set(s.enum.map((v) => (v === null ? 'null' : typeof v)))].join(' or ');
  if (Array.isArray(s.type)) return s.type.join(' or ');
  if (s.type === 'array') {
    const item = s.items ? typeOf(s.items) : 'any';
    return item.includes(' ') ? `(${item})[]` : `${item}[]`;
  }
  if (s.type) return s.type;
  if (s.properties) return 'object';
  return 'any';
}

/** A value as it is written in YAML, in a code span. */
const literal = (v) => code(v === '' ? '""' : typeof v === 'string' ? v : JSON.stringify(v));

/** The constraints of one node (not of its children): const, enum, bounds, lengths, pattern, default; `kind` names where a long pattern is printed. */
function constraintsOf(s, kind) {
  const out = [];
  if (s.oneOf || s.anyOf) {
    for (const alt of s.oneOf || s.anyOf) {
      const c = constraintsOf(alt, kind);
      out.push(`${typeOf(alt)}${c.length ? `: ${c.join(', ')}` : ''}`);
    }
    return [out.join('; or ')];
  }
  if (s.const !== undefined) out.push(`always ${literal(s.const)}`);
  if (s.enum) out.push(`one of ${s.enum.map(literal).join(', ')}`);
  if (s.minimum !== undefined && s.maximum !== undefined) out.push(`${s.minimum} to ${s.maximum}`);
  else if (s.minimum !== undefined) out.push(`at least ${s.minimum}`);
  else if (s.maximum !== undefined) out.push(`at most ${s.maximum}`);
  if (s.minLength !== undefined) out.push(`length at least ${s.minLength}`);
  if (s.maxLength !== undefined) out.push(`length at most ${s.maxLength}`);
  if (s.minItems !== undefined) out.push(`at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`);
  if (s.maxItems !== undefined) out.push(`at most ${s.maxItems} items`);
  if (s.uniqueItems) out.push('no item twice');
  if (s.pattern !== undefined) {
    out.push(
      s.pattern.length <= SHORT_PATTERN ? `pattern ${code(s.pattern)}` : `a pattern (\`kuke schema ${kind.toLowerCase()}\` prints it)`,
    );
  }
  if (s.propertyNames) {
    const keys = constraintsOf(s.propertyNames, kind);
    if (keys.length) out.push(`keys: ${keys.join(', ')}`);
  }
  if (s.type === 'array' && s.items && !s.items.properties) {
    const each = constraintsOf(s.items, kind);
    if (each.length) out.push(`each: ${each.join(', ')}`);
  }
  if (s.default !== undefined) out.push(`default ${literal(s.default)}`);
  return out;
}

/** Every field under `s`, depth first in schema order: path, type, required, constraints, description. */
function fieldsOf(s, prefix, rows, kind) {
  const required = new Set(s.required || []);
  for (const [key, child] of Object.entries(s.properties || {})) {
    const p = prefix ? `${prefix}.${key}` : key;
    rows.push({
      path: p,
      type: typeOf(child),
      required: required.has(key),
      constraints: constraintsOf(child, kind),
      description: child.description || '',
    });
    descend(child, p, rows, kind);
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const p = `${prefix}.<key>`;
    const child = s.additionalProperties;
    rows.push({
      path: p,
      type: typeOf(child),
      required: false,
      constraints: constraintsOf(child, kind),
      description: child.description || '',
    });
    descend(child, p, rows, kind);
  }
  return rows;
}

/** Into an object's fields, or an array's items' fields (`containers[].id`). */
function descend(s, p, rows, kind) {
  if (s.properties || (s.additionalProperties && typeof s.additionalProperties === 'object')) fieldsOf(s, p, rows, kind);
  if (s.type === 'array' && s.items && (s.items.properties || typeof s.items.additionalProperties === 'object')) {
    fieldsOf(s.items, `${p}[]`, rows, kind);
  }
}

/**
 * The schema with its internal `$ref`s (`#/$defs/...`) replaced by what they point at (the reference's own keywords,
 * such as a description, win), so the walk sees every field whether a schema shares parts by reference or by value.
 */
function inlineRefs(root) {
  const resolve = (ref) => {
    if (!ref.startsWith('#/')) throw new Error(`${root.$id}: $ref ${ref} is not internal (a kind's schema is self-contained)`);
    return ref
      .slice(2)
      .split('/')
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((node, key) => {
        if (node?.[key] === undefined) throw new Error(`${root.$id}: $ref ${ref} points at nothing`);
        return node[key];
      }, root);
  };
  const walk = (node, seen) => {
    if (Array.isArray(node)) return node.map((n) => walk(n, seen));
    if (!node || typeof node !== 'object') return node;
    if (typeof node.$ref === 'string') {
      if (seen.includes(node.$ref)) return { type: 'object', description: `(recursive: ${node.$ref})` };
      const { $ref, ...own } = node;
      return walk({ ...resolve($ref), ...own }, [...seen, $ref]);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$defs' || k === 'definitions' ? v : walk(v, seen)]));
  };
  return walk(root, []);
}

/** The schemas of every kind (the table `kuke schema` and `kuke explain` read), hierarchy first, then the scoped kinds. */
function kindSchemas() {
  const { KIND_SCHEMAS } = compiled('src/host/validation/kind-schemas.js');
  return Object.entries(KIND_SCHEMAS).map(([kind, schema]) => [kind[0].toUpperCase() + kind.slice(1), inlineRefs(schema)]);
}

function renderManifest() {
  const kinds = kindSchemas();
  const out = [
    '# Manifest reference',
    '',
    '<!-- Generated by scripts/gen-docs.js from the JSON Schemas (src/host/validation/schemas.ts, src/host/secrets/secret-schema.ts). Do not edit: run `npm run docs`. -->',
    '',
    "Every kind kukeon accepts in a manifest (`kuke apply -f`), field by field, as its JSON Schema says: the same schema `kuke apply` checks and `kuke schema KIND` prints for editors. A path's `[]` is each item of a list, `<key>` each key of a map. Required means the field must be present when its parent is. Checks a schema cannot express (a Secret's scope without gaps, exactly one source of a container's secret, an image outside the system realm) are made on apply too, and named in the field's description where one is given; the [README](../../README.md#using-kuke) has the rules.",
    '',
    kinds.map(([kind]) => `[${kind}](#${anchor(kind)})`).join(' · '),
    '',
  ];
  for (const [kind, schema] of kinds) {
    out.push(`## ${kind}`, '');
    const about = [`\`kind: ${kind}\``, `schema ${code(schema.$id)}`, `\`kuke schema ${kind.toLowerCase()}\``];
    out.push(`${about.join(', ')}.${schema.description ? ` ${prose(schema.description)}` : ''}`, '');
    out.push('| field | type | required | constraints | description |', '| --- | --- | --- | --- | --- |');
    for (const f of fieldsOf(schema, '', [], kind)) {
      out.push(
        `| ${code(f.path)} | ${f.type} | ${f.required ? 'yes' : ''} | ${cell(f.constraints.join('; '))} | ${cell(prose(f.description))} |`,
      );
    }
    out.push('');
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// CLI reference

/** clipanion's text, unwrapped: it wraps at 80 columns with `\n`; paragraphs stay apart. */
const unwrap = (s) =>
  (s || '')
    .trim()
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, ' '))
    .join('\n\n');
/** clipanion writes an option's value as `#0`. */
const valueName = (s) => s.replace(/ #0\b/g, ' VALUE');

/** One entry per command class of COMMAND_MODULES: its definition (public clipanion API) and its paths. */
function commandEntries() {
  const { Cli } = require('clipanion');
  const { COMMAND_MODULES } = compiled('src/cli/index.js');
  const entries = [];
  for (const klass of COMMAND_MODULES.flatMap((m) => m.load())) {
    const cli = new Cli({ binaryName: 'kuke', enableColors: false });
    cli.register(klass);
    const [definition] = cli.definitions({ colored: false });
    if (!definition) throw new Error(`${klass.name}: no usage (every command needs Command.Usage)`);
    entries.push({ definition, paths: (klass.paths || []).map((p) => ['kuke', ...p].join(' ')) });
  }
  return entries;
}

/** The usage line split: what follows the path, options (`[-x]`, required `<-x #0>`) apart from operands. */
function splitUsage(definition) {
  const rest = definition.usage.slice(definition.path.length).trim();
  const tokens = rest.match(/\[[^\]]*\]|<[^>]*>|\S+/g) || [];
  const inline = [];
  const operands = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.startsWith('[-')) inline.push({ definition: t.slice(1, -1), description: '', required: false });
    else if (t.startsWith('<-')) inline.push({ definition: t.slice(1, -1), description: '', required: true });
    else if (t.startsWith('-')) {
      const withValue = tokens[i + 1] === '#0';
      inline.push({ definition: withValue ? `${t} #0` : t, description: '', required: true });
      if (withValue) i++;
    } else operands.push(t);
  }
  return { inline, operands };
}

const optionKey = (o) => `${o.definition}\u0000${o.description || ''}`;

function renderCli() {
  const entries = commandEntries();
  const defs = entries.map((e) => e.definition);
  // Options every command has, with the same text: the global ones, listed once.
  const global = defs[0].options.filter((o) => defs.every((d) => d.options.some((x) => optionKey(x) === optionKey(o))));
  const globalKeys = new Set(global.map(optionKey));
  const byCategory = new Map();
  for (const e of entries) {
    const category = unwrap(e.definition.category) || 'General commands';
    if (!byCategory.has(category)) byCategory.set(category, []);
    byCategory.get(category).push(e);
  }
  // As `kuke --help` orders them (clipanion: categories, then commands, by localeCompare).
  const compare = (a, b) => a.localeCompare(b, 'en', { usage: 'sort', caseFirst: 'upper' });
  const categories = [...byCategory.keys()].sort(compare);

  const out = [
    '# kuke command reference',
    '',
    '<!-- Generated by scripts/gen-docs.js from the command definitions (src/cli/index.ts, src/cli/commands/). Do not edit: run `npm run docs`. -->',
    '',
    'Every `kuke` command, grouped as `kuke --help` groups them, with what `kuke COMMAND --help` prints: description, usage, options and examples. `VALUE` marks an option that takes a value; `<x>` is a required operand, `[x]` an optional one, `...` the rest of the line (what follows `--`). Exit codes: 0 success, 1 failure, 2 usage error, 130 cancelled. For the tour, see [Using kuke](../../README.md#using-kuke) in the README.',
    '',
  ];
  for (const category of categories) {
    out.push(
      `- **${category}**: ${byCategory
        .get(category)
        .map((e) => e.definition.path)
        .sort(compare)
        .map((p) => `[${p.replace(/^kuke /, '')}](#${anchor(p)})`)
        .join(', ')}`,
    );
  }
  out.push('', '## Global options', '', 'Every command takes these.', '', '| option | description |', '| --- | --- |');
  for (const o of global) out.push(`| ${code(valueName(o.definition))} | ${cell(prose(o.description))} |`);
  out.push('');

  for (const category of categories) {
    out.push(`## ${category}`, '');
    const sorted = byCategory.get(category).sort((a, b) => compare(a.definition.path, b.definition.path));
    for (const { definition: d, paths } of sorted) {
      out.push(`### ${d.path}`, '');
      out.push(prose(unwrap(d.description)), '');
      const { inline, operands } = splitUsage(d);
      const options = [...d.options.filter((o) => !globalKeys.has(optionKey(o))), ...inline];
      const synopsis = [d.path, ...(options.length ? ['[options]'] : []), ...operands].join(' ');
      out.push('```sh', synopsis, '```', '');
      const aliases = paths.filter((p) => p !== d.path);
      if (aliases.length) out.push(`Also: ${aliases.map(code).join(', ')}.`, '');
      if (d.details) out.push(prose(unwrap(d.details)), '');
      if (options.length) {
        out.push('| option | required | description |', '| --- | --- | --- |');
        for (const o of options)
          out.push(`| ${code(valueName(o.definition))} | ${o.required ? 'yes' : ''} | ${cell(prose(o.description || ''))} |`);
        out.push('');
      }
      if (d.examples?.length) {
        out.push('```sh');
        for (const [label, line] of d.examples) out.push(`# ${unwrap(label)}`, line);
        out.push('```', '');
      }
    }
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

/** The references as they are committed: name under docs/reference/ to formatted Markdown. */
function renderAll() {
  return Object.fromEntries(Object.entries(REFERENCES).map(([name, render]) => [name, formatted(render())]));
}

module.exports = { renderAll, renderManifest, renderCli, commandEntries, inlineRefs, prose, cell };

if (require.main === module) {
  const dir = path.resolve(process.argv[2] || path.join(ROOT, 'docs', 'reference'));
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(renderAll())) {
    const target = path.join(dir, name);
    fs.writeFileSync(target, text);
    console.log(`wrote ${path.relative(process.cwd(), target) || target}`);
  }
}
