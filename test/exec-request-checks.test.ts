// checkExecRequest (src/host/session-requests.ts) on JSON of the wrong type: an in-process caller or a plugin can
// pass any value, and a field of the wrong type is a usage error naming it, never a TypeError (KUKEON_E_INTERNAL).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkExecRequest } from '../src/host/session-requests';
import { KukeonError } from '../sdk';
import type { ExecRequest } from '../sdk';

const REF = { kind: 'Cell' as const, path: ['main', 'default', 'default', 'web'] };

function usageOf(req: unknown): string {
  try {
    checkExecRequest(req as ExecRequest);
  } catch (err) {
    assert.instance(err, KukeonError, `a KukeonError, not ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    assert.is((err as KukeonError).code, 'KUKEON_E_USAGE');
    return (err as KukeonError).message;
  }
  return 'accepted';
}

test('env that is not a list is refused by name before its items are read', () => {
  assert.is(usageOf({ ref: REF, command: ['sh'], env: 'A=B' }), 'exec: env must be a list of K=V');
  assert.is(usageOf({ ref: REF, command: ['sh'], env: { A: 'B' } }), 'exec: env must be a list of K=V');
  assert.match(usageOf({ ref: REF, command: ['sh'], env: ['A'] }), 'env[0] must be K=V');
  assert.is(usageOf({ ref: REF, command: ['sh'], env: ['A=B', 'C='] }), 'accepted');
});

test.run();
