// `secret`, `secrets`, `sec`: the Secret kind on the command line. It is scoped (realm, space?, stack?, cell?), not
// part of the hierarchy, so get and delete take it on their own path (src/host/secrets/).

import { KukeonError } from '../../sdk';
import type { ScopedRef } from '../../sdk';
import { checkName } from '../host/validation/names';
import type { ScopeFlags } from './scope';

const ALIASES = ['secret', 'secrets', 'sec'];

export function isSecretKind(text: string | undefined): boolean {
  return text !== undefined && ALIASES.includes(text.toLowerCase());
}

/** realm (default `default`), then space, stack and cell while given; a gap is a usage error. */
export function secretScope(flags: ScopeFlags): string[] {
  const scope = [checkName(flags.realm ?? 'default', '--realm')];
  const order = [
    ['--space', flags.space],
    ['--stack', flags.stack],
    ['--cell', flags.cell],
  ] as const;
  let gap: string | undefined;
  for (const [flag, value] of order) {
    if (value === undefined) {
      gap ??= flag;
      continue;
    }
    if (gap) throw new KukeonError('KUKEON_E_USAGE', `${flag} needs ${gap} (a secret's scope has no gaps)`);
    scope.push(checkName(value, flag));
  }
  return scope;
}

export function secretRefIn(name: string, flags: ScopeFlags): ScopedRef {
  return { kind: 'Secret', path: [...secretScope(flags), checkName(name, 'secret name')] };
}
