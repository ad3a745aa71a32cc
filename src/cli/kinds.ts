import { KukeonError } from '../../sdk';
import type { Kind } from '../../sdk';

const ALIASES: Record<string, Kind> = {
  realm: 'Realm',
  realms: 'Realm',
  r: 'Realm',
  space: 'Space',
  spaces: 'Space',
  sp: 'Space',
  stack: 'Stack',
  stacks: 'Stack',
  st: 'Stack',
  cell: 'Cell',
  cells: 'Cell',
  ce: 'Cell',
  container: 'Container',
  containers: 'Container',
  co: 'Container',
};

/** `cells`, `ce`, `Cell` -> Cell; anything else is a usage error listing the kinds. */
export function parseKind(text: string, allowed?: readonly Kind[]): Kind {
  const kind = ALIASES[text.toLowerCase()];
  if (!kind || (allowed && !allowed.includes(kind))) {
    const names = (allowed ?? (['Realm', 'Space', 'Stack', 'Cell', 'Container'] as Kind[])).map((k) => k.toLowerCase());
    names.push('volume');
    throw new KukeonError('KUKEON_E_USAGE', `unknown kind "${text}" (expected one of: ${names.join(', ')})`);
  }
  return kind;
}

/** `volume`, `volumes`, `vol`: the Volume kind (scoped: its scope comes from --realm, --space and --stack). */
export function isVolumeKind(text: string): boolean {
  return ['volume', 'volumes', 'vol'].includes(text.toLowerCase());
}
