// Volume and Secret are one kind of thing on disk (sdk/scoped-kinds.ts, src/host/scoped/scoped-doc-store.ts): a
// directory of the kind inside its scope's directory. A Secret may belong to a cell, a Volume goes no deeper than a
// stack; the reliability audit of a run path reads both directories as what they are.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { YamlStore } from '../plugins/store-yaml/yaml-store';
import { FileLocks } from '../src/host/file-locks';
import { ScopedDocStore } from '../src/host/scoped/scoped-doc-store';
import { SecretStore } from '../src/host/secrets/secret-store';
import { SCOPED_DIRS, SCOPED_RESERVED_NAMES, scopeNames, scopeRefOf } from '../sdk';
import type { KukeonError, SecretDoc, VolumeDoc } from '../sdk';
import { auditRunPath } from './reliability/run-path-audit';

async function tree() {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-scoped-kinds-'));
  const locks = new FileLocks(path.join(run, 'run', 'locks'));
  const yaml = new YamlStore(run, locks);
  await yaml.put({ apiVersion: 'v1beta1', kind: 'Realm', metadata: { name: 'main' }, spec: {} });
  await yaml.put({ apiVersion: 'v1beta1', kind: 'Space', metadata: { name: 'blog' }, spec: { realmId: 'main' } });
  await yaml.put({ apiVersion: 'v1beta1', kind: 'Stack', metadata: { name: 'wp' }, spec: { realmId: 'main', spaceId: 'blog' } });
  await yaml.put({
    apiVersion: 'v1beta1',
    kind: 'Cell',
    metadata: { name: 'web' },
    spec: { realmId: 'main', spaceId: 'blog', stackId: 'wp', containers: [] },
  });
  return { run, locks, yaml };
}

const volume = (name: string, scope: Partial<VolumeDoc['metadata']>): VolumeDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Volume',
  metadata: { name, realm: 'main', ...scope },
  spec: { reclaimPolicy: 'Delete' },
});
const secret = (name: string, scope: Partial<SecretDoc['metadata']>): SecretDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Secret',
  metadata: { name, realm: 'main', ...scope },
  spec: { data: 'value' },
});

test('the scope of a scoped document: realm to cell, names reserved for both kinds', () => {
  assert.equal(SCOPED_DIRS, { Volume: 'volumes', Secret: 'secrets' });
  assert.equal([...SCOPED_RESERVED_NAMES].sort(), ['secrets', 'volumes']);
  assert.equal(scopeNames({ realm: 'main' }), ['main']);
  assert.equal(scopeNames({ realm: 'main', space: 'blog', stack: 'wp', cell: 'web' }), ['main', 'blog', 'wp', 'web']);
  assert.equal(scopeRefOf({ kind: 'Secret', path: ['main', 'blog', 'wp', 'web', 'tls'] }), {
    kind: 'Cell',
    path: ['main', 'blog', 'wp', 'web'],
  });
  assert.equal(scopeRefOf({ kind: 'Volume', path: ['main', 'blog', 'data'] }), { kind: 'Space', path: ['main', 'blog'] });
});

test('one layout for both kinds: a Secret reaches cells, a Volume stops at stacks; the audit accepts both directories', async () => {
  const { run, locks, yaml } = await tree();
  const volumes = new ScopedDocStore<VolumeDoc>('Volume', () => yaml);
  const secrets = new SecretStore(() => yaml, locks);
  await volumes.put(volume('data', { space: 'blog', stack: 'wp' }));
  await volumes.put(volume('shared', {}));
  await secrets.put(secret('tls', { space: 'blog', stack: 'wp', cell: 'web' }), {
    kind: 'Secret',
    path: ['main', 'blog', 'wp', 'web', 'tls'],
  });
  await secrets.put(secret('db', { space: 'blog' }), { kind: 'Secret', path: ['main', 'blog', 'db'] });
  assert.ok(fs.existsSync(path.join(run, 'main', 'blog', 'wp', 'volumes', 'data.yaml')));
  assert.ok(fs.existsSync(path.join(run, 'main', 'volumes', 'shared.yaml')));
  const cellSecret = path.join(run, 'main', 'blog', 'wp', 'web', 'secrets', 'tls.yaml');
  assert.is(fs.statSync(cellSecret).mode & 0o777, 0o600);
  assert.is(fs.statSync(path.dirname(cellSecret)).mode & 0o777, 0o700);
  assert.equal(
    (await volumes.listUnder(['main'])).map((v) => v.metadata.name),
    ['shared', 'data'],
  );
  assert.equal(
    (await secrets.list(['main'])).map((s) => s.ref.path.join('/')),
    ['main/blog/db', 'main/blog/wp/web/tls'],
  );
  assert.equal(
    (await secrets.list(['main', 'blog', 'wp', 'web'])).map((s) => s.ref.path.join('/')),
    ['main/blog/wp/web/tls'],
  );
  assert.throws(
    () => volumes.file({ kind: 'Volume', path: ['main', 'blog', 'wp', 'web', 'data'] }),
    (e: KukeonError) => e.code === 'KUKEON_E_INVALID_NAME' && /has 2 to 4 names/.test(e.message),
  );
  // a secrets directory someone opened up is closed again by the next write
  fs.chmodSync(path.dirname(cellSecret), 0o755);
  await secrets.put(
    { ...secret('tls', { space: 'blog', stack: 'wp', cell: 'web' }), spec: { data: 'new' } },
    {
      kind: 'Secret',
      path: ['main', 'blog', 'wp', 'web', 'tls'],
    },
  );
  assert.is(fs.statSync(path.dirname(cellSecret)).mode & 0o777, 0o700);

  // a volume's data directory is the workload's: anything in it is not the audit's business
  fs.mkdirSync(path.join(run, 'main', 'blog', 'wp', 'volumes', 'data', 'pg'), { recursive: true });
  fs.writeFileSync(path.join(run, 'main', 'blog', 'wp', 'volumes', 'data', 'pg', 'x.yaml'), ': not yaml [');
  assert.equal(auditRunPath(run), []);
  // but a torn Volume document and an opened Secret are found
  fs.writeFileSync(path.join(run, 'main', 'volumes', 'shared.yaml'), 'kind: Volume\nmetadata: {');
  fs.chmodSync(cellSecret, 0o644);
  const problems = auditRunPath(run);
  assert.is(problems.length, 2, problems.join('\n'));
  assert.match(problems.join('\n'), /volumes\/shared\.yaml: torn document/);
  assert.match(problems.join('\n'), /secrets\/tls\.yaml: a Secret that is not 0600/);
  fs.rmSync(run, { recursive: true, force: true });
});

test.run();
