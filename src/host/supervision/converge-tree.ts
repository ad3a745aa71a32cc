// After a reboot the cgroup tree, the spaces' bridges, conflists and iptables rules are gone while their records
// still say Ready: every realm, space and stack runs its create phase again, parents first. Create taps are
// idempotent by contract (a re-apply runs them too), so this makes whatever is missing and changes nothing else.

import { childKind, formatRef, refOf, toKukeonError } from '../../../sdk';
import type { Kind, StoreService } from '../../../sdk';
import type { Lifecycle } from '../controller/lifecycle';
import { HostOperationScope } from '../operation-scope';

export interface ConvergeResult {
  converged: number;
  failures: string[];
}

export async function convergeTree(store: StoreService, lifecycle: Lifecycle): Promise<ConvergeResult> {
  const out: ConvergeResult = { converged: 0, failures: [] };
  const walk = async (kind: Kind, scope: readonly string[]): Promise<void> => {
    for (const doc of await store.list(kind, scope)) {
      const ref = refOf(doc);
      try {
        await lifecycle.create(doc, ref, { scope: HostOperationScope.start() });
        out.converged += 1;
      } catch (err) {
        out.failures.push(`${formatRef(ref)}: ${toKukeonError(err).message}`);
      }
      if (kind !== 'Stack') await walk(childKind(kind)!, ref.path);
    }
  };
  await walk('Realm', []);
  return out;
}
