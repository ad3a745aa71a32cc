// Failpoints, in the style of containerd's: a test sets KUKEON_FAILPOINTS="name=action,..." to make a named
// point in the code kill the process (action `kill`) or throw (action `error`). `name=kill@3` fires on the third
// time this process reaches the point (a point a command passes once per cell). Unset, a failpoint costs one lookup.

import { KukeonError } from './errors';

/** How often this process reached each failpoint named in KUKEON_FAILPOINTS (only those are counted). */
const hits = new Map<string, number>();

export function failpoint(name: string): void {
  const spec = process.env.KUKEON_FAILPOINTS;
  if (!spec) return;
  for (const entry of spec.split(',')) {
    const [point, rule = 'error'] = entry.trim().split('=');
    if (point !== name) continue;
    const [action, nth] = rule.split('@');
    const hit = (hits.get(name) ?? 0) + 1;
    hits.set(name, hit);
    if (nth !== undefined && Number(nth) !== hit) continue;
    if (action === 'kill') process.kill(process.pid, 'SIGKILL');
    throw new KukeonError('KUKEON_E_INTERNAL', `failpoint ${name} triggered`);
  }
}
