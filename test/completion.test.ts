// `kuke --help` and `kuke completion bash`: every command has a category, a description and an example, every
// option a description, and the generated completion script, sourced into a real bash, completes verbs, sub-verbs,
// kinds and options.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCli } from '../src/cli/index';
import { kuke } from './helpers/kuke';
import { tmpDir } from './helpers/tmp';

test('every command has a category, a description and at least one example', () => {
  const missing = buildCli()
    .definitions()
    .filter((d) => !d.category || !d.description?.trim() || !d.examples?.length)
    .map((d) => d.path);
  assert.equal(missing, []);
});

test('every option of every command has a description', () => {
  const missing = buildCli()
    .definitions()
    .flatMap((d) => d.options.filter((o) => !o.description?.trim()).map((o) => `${d.path} ${o.definition}`));
  assert.equal(missing, []);
});

test('kuke --help groups the verbs by category', async () => {
  const r = await kuke(['--help']);
  assert.is(r.code, 0, r.stderr);
  for (const heading of ['Resources', 'Cells', 'Images', 'Host and daemon']) assert.match(r.stdout, new RegExp(`^${heading}$`, 'm'));
});

test('the bash script completes verbs, sub-verbs, kinds and options in a real bash', async () => {
  const r = await kuke(['completion', 'bash']);
  assert.is(r.code, 0, r.stderr);
  const script = path.join(tmpDir('kukeon-completion-'), 'kuke.bash');
  fs.writeFileSync(script, r.stdout);
  /** What bash offers for the command line `line` (the cursor at its end). */
  const complete = (line: string): string[] => {
    const words = line.split(' ');
    const b = spawnSync(
      'bash',
      [
        '-c',
        `source "$1"; COMP_WORDS=("\${@:2}"); COMP_CWORD=$(($# - 2)); _kuke_completion; printf '%s\\n' "\${COMPREPLY[@]}"`,
        'bash',
        script,
        ...words,
      ],
      { encoding: 'utf8' },
    );
    assert.is(b.status, 0, b.stderr);
    return b.stdout.split('\n').filter(Boolean).sort();
  };
  assert.ok(complete('kuke ').includes('apply') && complete('kuke ').includes('completion'), 'every verb');
  assert.equal(complete('kuke cr'), ['create']);
  assert.equal(complete('kuke create '), ['cell', 'realm', 'space', 'stack']);
  assert.equal(complete('kuke image '), ['load', 'ls', 'prune', 'pull', 'rm']);
  assert.ok(complete('kuke get ').includes('cells'), 'kinds after get');
  assert.equal(complete('kuke get se'), ['secret', 'secrets'], 'the scoped kinds too');
  assert.equal(complete('kuke delete vo'), ['volume', 'volumes']);
  assert.equal(complete('kuke explain ce'), ['cell', 'cells'], 'kinds after explain');
  assert.equal(complete('kuke explain --rec'), ['--recursive']);
  assert.equal(complete('kuke get --re'), ['--realm']);
  assert.equal(complete('kuke purge cell web --cas'), ['--cascade']);
  assert.equal(complete('kuke get cells -o '), ['json', 'table', 'wide', 'yaml']);
  assert.equal(complete('kuke daemon logs --fo'), ['--follow']);
});

test('an unknown shell is a usage error', async () => {
  const r = await kuke(['completion', 'fish']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /fish.*not supported/);
});

test.run();
