// `kuke tree`: the hierarchy with states and limits, ASCII when piped, one realm with --realm.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { STORE_ONLY_CONFIG, kuke } from './helpers/kuke';
import { tmpDir } from './helpers/tmp';

const MANIFEST = `
kind: Realm
apiVersion: v1beta1
metadata: { name: main }
---
kind: Space
apiVersion: v1beta1
metadata: { name: blog }
spec: { realmId: main, resources: { cpu: { max: "20000 100000" } } }
---
kind: Stack
apiVersion: v1beta1
metadata: { name: wp }
spec: { realmId: main, spaceId: blog, resources: { pids: { max: 100 } } }
---
kind: Cell
apiVersion: v1beta1
metadata: { name: web }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: nginx, image: nginx, resources: { memory: { max: 64Mi } } }
    - { id: php, image: php }
---
kind: Realm
apiVersion: v1beta1
metadata: { name: other }
`;

const dir = tmpDir('kukeon-tree-');
const config = path.join(dir, 'kukeon.yaml');
fs.writeFileSync(config, STORE_ONLY_CONFIG);
const run = (args: string[], input?: string) => kuke([...args, '--config', config, '--run-path', path.join(dir, 'run')], { input });

test.before(() => {
  const r = run(['apply', '-f', '-'], MANIFEST);
  assert.is(r.code, 0, r.stderr);
});

test('the whole tree, in ASCII when piped, with states and each level limits', () => {
  const r = run(['tree']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n'), [
    'realm/main  Ready',
    '`-- space/blog  Ready  cpu.max 20000 100000',
    '    `-- stack/wp  Ready  pids.max 100',
    '        `-- cell/web  Pending',
    '            |-- nginx  Pending  memory.max 64Mi',
    '            `-- php  Pending',
    'realm/other  Ready',
    '',
  ]);
});

test('--realm shows one realm; an unknown one says so and exits 1', () => {
  const one = run(['tree', '--realm', 'other']);
  assert.is(one.code, 0, one.stderr);
  assert.is(one.stdout, 'realm/other  Ready\n');
  const none = run(['tree', '--realm', 'ghost']);
  assert.is(none.code, 1);
  assert.match(none.stderr, /No realm ghost/);
  assert.is(run(['tree', '--realm', '../x']).code, 1, 'a bad name is refused');
});

test.run();
