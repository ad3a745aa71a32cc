// The Secrets' files and the staged files, without containerd: a Secret is 0600 in a 0700 directory and written only
// into a scope that exists; listing walks every scope under the one asked for; a staged file is 0400 and its
// owner's, and a host removes only what it staged itself.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { YamlStore } from '../plugins/store-yaml/yaml-store';
import { FileLocks } from '../src/host/file-locks';
import { SecretStaging } from '../src/host/secrets/secret-staging';
import { SecretStore } from '../src/host/secrets/secret-store';
import { onTmpfs, unmountTmpfs } from '../src/host/secrets/staging-tmpfs';
import type { KukeonError, ScopedRef, SecretDoc } from '../sdk';

const secret = (name: string, scope: Partial<SecretDoc['metadata']>, data: string): SecretDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Secret',
  metadata: { name, realm: 'main', ...scope },
  spec: { data },
});

test('SecretStore: 0600 in 0700, created/unchanged/updated, a missing scope refused, every scope listed', async () => {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-secret-store-'));
  const locks = new FileLocks(path.join(run, 'run', 'locks'));
  const yaml = new YamlStore(run, locks);
  const store = new SecretStore(() => yaml, locks);
  await yaml.put({ apiVersion: 'v1beta1', kind: 'Realm', metadata: { name: 'main' }, spec: {} });
  await yaml.put({ apiVersion: 'v1beta1', kind: 'Space', metadata: { name: 'blog' }, spec: { realmId: 'main' } });
  const top: ScopedRef = { kind: 'Secret', path: ['main', 'db'] };
  assert.is(await store.put(secret('db', {}, 'one'), top), 'created');
  assert.is(await store.put(secret('db', {}, 'one'), top), 'unchanged');
  assert.is(await store.put(secret('db', {}, 'two'), top), 'updated');
  const file = path.join(run, 'main', 'secrets', 'db.yaml');
  assert.is(fs.statSync(file).mode & 0o777, 0o600);
  assert.is(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.is((await store.read(top))?.spec.data, 'two');
  await store.put(secret('tls', { space: 'blog' }, 'k'), { kind: 'Secret', path: ['main', 'blog', 'tls'] });
  await store.put(secret('db', {}, 'x'), { kind: 'Secret', path: ['main', 'nope', 'db'] }).then(
    () => assert.unreachable('written into a space that does not exist'),
    (e: KukeonError) => assert.is(e.code, 'KUKEON_E_PARENT_NOT_FOUND'),
  );
  assert.not.ok(fs.existsSync(path.join(run, 'main', 'nope')), 'no directory made for a missing scope');
  assert.equal(
    (await store.list(['main'])).map((s) => s.ref.path.join('/')),
    ['main/db', 'main/blog/tls'],
  );
  assert.equal(
    (await store.list(['main', 'blog'])).map((s) => s.ref.path.join('/')),
    ['main/blog/tls'],
  );
  // a space's listing does not mistake the realm's secrets directory for a space
  assert.equal(
    (await yaml.list('Space', ['main'])).map((s) => s.metadata.name),
    ['blog'],
  );
  // a space named `secrets` (the name is reserved; an older tree may have one) is never written into
  await yaml.put({ apiVersion: 'v1beta1', kind: 'Space', metadata: { name: 'secrets' }, spec: { realmId: 'main' } });
  await store.put(secret('cell', {}, 'x'), { kind: 'Secret', path: ['main', 'cell'] }).then(
    () => assert.unreachable('written into a space'),
    (e: KukeonError) => assert.is(e.code, 'KUKEON_E_CONFLICT'),
  );
  assert.ok(await store.remove(top));
  assert.not.ok(await store.remove(top));
  fs.rmSync(run, { recursive: true, force: true });
});

test("SecretStaging: 0400 and the owner's; a host removes only what it staged, by cell or container", () => {
  if (!onTmpfs('/dev/shm') || process.getuid?.() !== 0) return console.log('  (skipped: needs root and a tmpfs at /dev/shm)');
  const root = fs.mkdtempSync('/dev/shm/kukeon-staging-');
  try {
    const a = new SecretStaging(root, '/run-a');
    const b = new SecretStaging(root, '/run-b');
    const cell = ['main', 'blog', 'wp', 'web'];
    const files = a.stage(cell, 'app', 'blog_wp_web_app', [{ name: 'db', value: Buffer.from('v1') }], 1234, 5678);
    const file = files.get('db')!;
    const st = fs.statSync(file);
    assert.equal([st.mode & 0o777, st.uid, st.gid], [0o400, 1234, 5678]);
    assert.is(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    // staged again at the next start: replaced, not refused
    a.stage(cell, 'app', 'blog_wp_web_app', [{ name: 'db', value: Buffer.from('v2') }], 1234, 5678);
    assert.is(fs.readFileSync(file, 'utf8'), 'v2');
    assert.is(b.remove(['main']), 0, "another host's run path: kept");
    assert.is(a.remove(cell, 'other'), 0, 'another container: kept');
    assert.is(a.remove(['main', 'blog', 'other']), 0, 'another stack: kept');
    assert.ok(fs.existsSync(file));
    assert.is(a.remove(cell, 'app'), 1);
    assert.not.ok(fs.existsSync(path.dirname(file)));
    a.stage(cell, 'app', 'blog_wp_web_app', [{ name: 'db', value: Buffer.from('v3') }], 0, 0);
    assert.is(a.remove(['main']), 1, 'a realm takes everything of it');
    assert.not.ok(fs.existsSync(path.join(root, 'main')), 'and its emptied directory');
    assert.not.ok(unmountTmpfs(root), 'a tmpfs kukeon did not mount (no mark) is never unmounted');
    assert.ok(onTmpfs(root));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test.run();
