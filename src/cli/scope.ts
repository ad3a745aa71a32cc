// Scope flags (--realm --space --stack --cell, each defaulting to `default`) turned into paths. Every name is
// validated before a path is built from it.

import type { Kind, Ref } from '../../sdk';
import { KINDS, KukeonError } from '../../sdk';
import { checkName } from '../host/validation/names';

export interface ScopeFlags {
  realm?: string;
  space?: string;
  stack?: string;
  cell?: string;
}

/** The parent path of `kind` in the given scope (`[]` for realms). */
export function scopePath(kind: Kind, flags: ScopeFlags): string[] {
  const names = [flags.realm ?? 'default', flags.space ?? 'default', flags.stack ?? 'default', flags.cell ?? 'default'];
  const flagNames = ['--realm', '--space', '--stack', '--cell'];
  const depth = KINDS.indexOf(kind);
  return names.slice(0, depth).map((n, i) => checkName(n, flagNames[i]));
}

export function refIn(kind: Kind, name: string, flags: ScopeFlags): Ref {
  return { kind, path: [...scopePath(kind, flags), checkName(name, `${kind.toLowerCase()} name`)] };
}

/** A scoped document's scope from the flags: `[realm]`, `[realm, space]` or `[realm, space, stack]` (realm default `default`). */
export function scopedScope(flags: ScopeFlags): string[] {
  if (flags.stack !== undefined && flags.space === undefined) throw new KukeonError('KUKEON_E_USAGE', '--stack needs --space');
  const names = [flags.realm ?? 'default', flags.space, flags.stack].filter((n): n is string => n !== undefined);
  const flagNames = ['--realm', '--space', '--stack'];
  return names.map((n, i) => checkName(n, flagNames[i]));
}
