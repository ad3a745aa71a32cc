// A container's secrets as values, read when it starts: a Secret (secretRef), a host file (fromFile) or a variable of
// this process's environment (fromEnv: kukeond's, or kuke's in-process). Errors say which secret and why, never a value.

import fs from 'node:fs';
import { KukeonError, formatRef, scopeNames } from '../../../sdk';
import type { ContainerSecret, ScopedRef } from '../../../sdk';
import type { SecretStore } from './secret-store';
import { MAX_SECRET_BYTES } from './validate-secret';

export interface ResolvedSecret {
  name: string;
  value: Buffer;
  mountPath?: string;
}

export async function resolveSecrets(
  secrets: readonly ContainerSecret[],
  where: string,
  store: SecretStore,
  env: NodeJS.ProcessEnv,
): Promise<ResolvedSecret[]> {
  const out: ResolvedSecret[] = [];
  for (const [i, s] of secrets.entries()) {
    const fail = (why: string): never => {
      throw new KukeonError('KUKEON_E_STEP', `${where}: secret "${s.name}" (secrets[${i}]) ${why}`, { field: `secrets[${i}]` });
    };
    let value: Buffer | undefined;
    if (s.secretRef) {
      const ref: ScopedRef = { kind: 'Secret', path: [...scopeNames(s.secretRef), s.secretRef.name] };
      const doc = await store.read(ref);
      if (!doc) fail(`names ${formatRef(ref)}, which does not exist (kuke apply a Secret first)`);
      value = Buffer.from(doc!.spec.data ?? '', 'utf8');
    } else if (s.fromFile !== undefined) {
      try {
        const st = fs.statSync(s.fromFile);
        if (!st.isFile()) fail(`fromFile ${s.fromFile} is not a regular file`);
        if (st.size > MAX_SECRET_BYTES) fail(`fromFile ${s.fromFile} is larger than ${MAX_SECRET_BYTES} bytes`);
        value = fs.readFileSync(s.fromFile);
      } catch (err) {
        if (err instanceof KukeonError) throw err;
        fail(`cannot read fromFile ${s.fromFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    } else if (s.fromEnv !== undefined) {
      const v = env[s.fromEnv];
      if (v === undefined) fail(`fromEnv: ${s.fromEnv} is not set in the environment of the kukeon process that starts it`);
      value = Buffer.from(v as string, 'utf8');
    } else fail('has no source');
    out.push({ name: s.name, value: value!, mountPath: s.mountPath });
  }
  return out;
}
