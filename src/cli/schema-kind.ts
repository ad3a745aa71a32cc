// A kind as `kuke schema` and `kuke explain` take it: any alias of the hierarchy's kinds, of Volume or of Secret.

import { KIND_SCHEMAS } from '../host/validation/kind-schemas';
import { isVolumeKind, parseKind } from './kinds';
import { isSecretKind } from './secret-kind';

/** `cells`, `ce`, `vol`, `Secret`: the kind's key in KIND_SCHEMAS (`cell`); undefined for anything else. */
export function schemaKindOf(text: string): string | undefined {
  if (isSecretKind(text)) return 'secret';
  if (isVolumeKind(text)) return 'volume';
  try {
    return parseKind(text).toLowerCase();
  } catch {
    return undefined;
  }
}

/** The kinds, for an error that lists them. */
export const schemaKindList = () => Object.keys(KIND_SCHEMAS).join(', ');
