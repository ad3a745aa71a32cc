// The containerd plugin's `allowPrivileged: false`: a host where containers may not reach past their isolation.
// privileged, hostPID, devices and capabilities added beyond the default set are refused when a document is
// validated (before anything is stored), naming the field and the setting. The system realm's kukeond is exempt.

import { KukeonError, capabilityName } from '../../sdk';
import type { AnyDoc, ContainerSpec, KukeonErrorDetails, ValidateContext } from '../../sdk';
import { DEFAULT_CAPS } from './capability-set';
import { SYSTEM_REALM } from './naming';

/** The first field of `c` the setting forbids (`privileged`, `capabilities.add[1]`, ...), or undefined. */
export function forbiddenField(c: ContainerSpec): string | undefined {
  if (c.privileged) return 'privileged';
  if (c.hostPID) return 'hostPID';
  if (c.devices?.length) return 'devices';
  const added = (c.capabilities?.add ?? []).findIndex((n) => {
    const name = capabilityName(n);
    return name !== undefined && !DEFAULT_CAPS.includes(name);
  });
  return added >= 0 ? `capabilities.add[${added}]` : undefined;
}

/** The refusal of a document under `allowPrivileged: false`, or undefined. */
export function privilegeRefusal(ctx: ValidateContext): KukeonError | undefined {
  const doc = ctx.doc as AnyDoc;
  if (doc.kind !== 'Cell' && doc.kind !== 'Container') return undefined;
  if (doc.spec.realmId === SYSTEM_REALM) return undefined;
  const containers: [string, ContainerSpec][] =
    doc.kind === 'Cell' ? doc.spec.containers.map((c, i) => [`spec.containers[${i}].`, c]) : [['spec.', doc.spec]];
  for (const [prefix, c] of containers) {
    const field = forbiddenField(c);
    if (!field) continue;
    return forbiddenError(`${prefix}${field}`, { document: ctx.index, kind: doc.kind, name: doc.metadata.name, plugin: 'containerd' });
  }
  return undefined;
}

export function forbiddenError(field: string, details: KukeonErrorDetails): KukeonError {
  return new KukeonError(
    'KUKEON_E_FORBIDDEN',
    `${field} is forbidden on this host: the containerd plugin's setting allowPrivileged is false`,
    { ...details, field },
  );
}
