// The SDK's one crash-safe writer: every plugin's and the host's temp+rename writes go through it.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanStrayTemps, tempPathFor, writeFileAtomic, writeFileAtomicSync } from '../sdk';
import { pidRunning, tempOwner } from '../sdk/atomic-write';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-atomic-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const DEAD_PID = 999999999;

for (const [name, write] of [
  ['writeFileAtomic', writeFileAtomic],
  ['writeFileAtomicSync', async (f: string, d: string, o?: { mode?: number }) => writeFileAtomicSync(f, d, o)],
] as const) {
  test(`${name}: creates missing directories, replaces the file, leaves no temp`, async () => {
    const file = path.join(tmp, name, 'a', 'b', 'doc.json');
    await write(file, 'one');
    await write(file, 'two');
    assert.is(fs.readFileSync(file, 'utf8'), 'two');
    assert.equal(fs.readdirSync(path.dirname(file)), ['doc.json']);
  });

  test(`${name}: removes the temps of dead writers beside the file, keeps a live writer's`, async () => {
    const dir = path.join(tmp, name, 'strays');
    fs.mkdirSync(dir, { recursive: true });
    const dead = path.join(dir, `.other.yaml.tmp-${DEAD_PID}-abc123`);
    const live = tempPathFor(path.join(dir, 'busy.yaml'));
    fs.writeFileSync(dead, 'half');
    fs.writeFileSync(live, 'in flight');
    await write(path.join(dir, 'doc.yaml'), 'x');
    assert.equal(fs.readdirSync(dir).sort(), [path.basename(live), 'doc.yaml'].sort());
  });

  test(`${name}: the mode option is exact, whatever the umask`, async () => {
    const file = path.join(tmp, name, 'secret.json');
    const old = process.umask(0o000);
    try {
      await write(file, '{}', { mode: 0o600 });
    } finally {
      process.umask(old);
    }
    assert.is(fs.statSync(file).mode & 0o777, 0o600);
  });
}

test('temp names are the ones the stray-temp cleaner recognises, and it keeps those of live writers', async () => {
  const dir = path.join(tmp, 'clean');
  fs.mkdirSync(dir);
  const mine = tempPathFor(path.join(dir, 'x.yaml'));
  assert.is(tempOwner(path.basename(mine)), process.pid);
  assert.is(tempOwner('x.yaml'), undefined);
  const dead = path.join(dir, `.y.yaml.tmp-${DEAD_PID}-abc123`);
  fs.writeFileSync(mine, '');
  fs.writeFileSync(dead, '');
  assert.equal(await cleanStrayTemps(dir), [dead]);
  assert.ok(fs.existsSync(mine));
  assert.ok(pidRunning(process.pid));
  assert.not.ok(pidRunning(DEAD_PID));
});

test.run();
