// examples/profiles/: each backend set for distribution builders loads the plugins it says, each in its slot,
// with its store working (kuke plugins ls from the profile; the store-only one also stores the quick start).

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, kuke } from './helpers/kuke';
import { tmpDir } from './helpers/tmp';

const PROFILES = path.join(REPO_ROOT, 'examples', 'profiles');
/** Each profile's plugins (name → slot), as its comments promise. */
const EXPECTED: Record<string, Record<string, string>> = {
  'store-only.yaml': { 'store-yaml': 'store' },
  'full-host.yaml': { 'store-yaml': 'store', containerd: 'runtime', cni: 'network', cgroupv2: 'cgroups', 'api-socket': 'api' },
  'unprivileged.yaml': { 'store-yaml': 'store', 'api-socket': 'api' },
  'third-party-store.yaml': { 'store-json': 'store', containerd: 'runtime', cni: 'network', cgroupv2: 'cgroups', 'api-socket': 'api' },
};

test('every profile in examples/profiles is checked here', () => {
  assert.equal(fs.readdirSync(PROFILES).sort(), Object.keys(EXPECTED).sort());
});

for (const [file, plugins] of Object.entries(EXPECTED)) {
  test(`${file}: kuke plugins ls shows its plugins in their slots, the store ok`, () => {
    const r = kuke(['plugins', 'ls', '-o', 'json', '--config', path.join(PROFILES, file), '--run-path', tmpDir('kukeon-profile-')], {
      env: { KUKEON_NO_DAEMON: '1' },
    });
    assert.is(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as { name: string; slot: string; state: string; reason?: string }[];
    assert.equal(Object.fromEntries(listed.map((p) => [p.name, p.slot])), plugins);
    const store = listed.find((p) => p.slot === 'store')!;
    assert.is(store.state, 'ok', store.reason);
    for (const p of listed) assert.ok(['ok', 'skip'].includes(p.state), `${p.name}: ${p.state} ${p.reason ?? ''}`);
  });
}

test('store-only.yaml stores the quick start', () => {
  const runPath = tmpDir('kukeon-profile-');
  const config = path.join(PROFILES, 'store-only.yaml');
  const r = kuke(['apply', '-f', path.join(REPO_ROOT, 'examples', 'quickstart.yaml'), '--config', config, '--run-path', runPath]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(fs.existsSync(path.join(runPath, 'demo', 'web', 'shop', 'frontend', 'cell.yaml')));
});

test.run();
