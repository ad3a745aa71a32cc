// `--force-system`: the commands that write or remove resources take it to touch the system realm kukeon-system,
// which kuke init manages; without it they refuse with KUKEON_E_SYSTEM.

import { Option } from 'clipanion';

export function forceSystemOption(): boolean {
  return Option.Boolean('--force-system', false, { description: 'Allow changing the system realm kukeon-system (managed by kuke init)' });
}
