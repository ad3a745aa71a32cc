// Failpoints, in the style of containerd's: a test sets KUKEON_FAILPOINTS="name=action,..." to make a named
// point in the code kill the process (action `kill`) or throw (action `error`). Unset, a failpoint costs one lookup.

import { KukeonError } from './errors';

export function failpoint(name: string): void {
  const spec = process.env.KUKEON_FAILPOINTS;
  if (!spec) return;
  for (const entry of spec.split(',')) {
    const [point, action = 'error'] = entry.trim().split('=');
    if (point !== name) continue;
    if (action === 'kill') process.kill(process.pid, 'SIGKILL');
    throw new KukeonError('KUKEON_E_INTERNAL', `failpoint ${name} triggered`);
  }
}
