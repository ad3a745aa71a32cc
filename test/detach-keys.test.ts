import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DetachScanner, parseDetachKeys } from '../src/cli/session/detach-keys';

test('detach keys parse as Docker writes them', () => {
  assert.equal([...parseDetachKeys('ctrl-p,ctrl-q')], [0x10, 0x11]);
  assert.equal([...parseDetachKeys('ctrl-a,x,ctrl-@,ctrl-[')], [0x01, 0x78, 0x00, 0x1b]);
  assert.throws(() => parseDetachKeys('ctrl-pq'), /ctrl-pq.*is not a key/);
  assert.throws(() => parseDetachKeys('alt-x'), /alt-x/);
});

test('the scanner passes what is not the sequence, holds a prefix across chunks, and stops at the sequence', () => {
  const keys = parseDetachKeys('ctrl-p,ctrl-q');
  const s = new DetachScanner(keys);
  assert.equal(s.scan(Buffer.from('ab')), { pass: Buffer.from('ab'), detach: false });
  // ^P alone is held, then let through with the byte that shows it was not the sequence
  assert.equal(s.scan(Buffer.from([0x10])), { pass: Buffer.alloc(0), detach: false });
  assert.equal(s.scan(Buffer.from('c')), { pass: Buffer.from([0x10, 0x63]), detach: false });
  // ^P ^P ^Q: the first ^P goes through, the last two detach; what follows is dropped
  assert.equal(s.scan(Buffer.from([0x10, 0x10, 0x11, 0x64])), { pass: Buffer.from([0x10]), detach: true });
  const split = new DetachScanner(keys);
  assert.equal(split.scan(Buffer.from([0x78, 0x10])).pass, Buffer.from('x'));
  assert.is(split.scan(Buffer.from([0x11])).detach, true);
});

test.run();
