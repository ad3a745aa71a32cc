// A second OS process for the store conformance cases: the store's guarantees are about processes, not
// promises. It loads the plugin by module path through the host's loader, builds a host on the run path and
// does the job given as JSON in argv[2]:
//   increment    `count` updates of container r1/s1/t1/c1/web, each adding 1 to status.restartCount
//   put-realm    put realm r1 with labels.version = `version`
//   update-realm update realm r1 to labels.version = `version`

import type { RealmDoc } from '..';
import { hostEntry } from './host';

export interface StoreChildJob {
  module: string;
  baseDir: string;
  config?: Record<string, unknown>;
  runPath: string;
  mode: 'increment' | 'put-realm' | 'update-realm';
  count?: number;
  version?: string;
  lockTimeoutMs?: number;
}

export const realmWithVersion = (version: string): RealmDoc => ({
  apiVersion: 'v1beta1',
  kind: 'Realm',
  metadata: { name: 'r1', labels: { version } },
  spec: { namespace: 'kukeon-r1' },
});

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as StoreChildJob;
  const { createHost, loadPluginModule } = hostEntry();
  const plugin = loadPluginModule(job.module, job.baseDir);
  const host = await createHost({
    runPath: job.runPath,
    env: {},
    plugins: [{ plugin, table: job.config, source: job.module }],
    lockTimeoutMs: job.lockTimeoutMs,
  });
  const store = host.services.get('store');
  if (!store) throw new Error(`plugin ${plugin.name} provided no store service`);
  if (job.mode === 'increment') {
    const ref = { kind: 'Container' as const, path: ['r1', 's1', 't1', 'c1', 'web'] };
    for (let i = 0; i < (job.count ?? 0); i++) {
      await store.update(ref, (doc) => {
        if (!doc) throw new Error('container r1/s1/t1/c1/web is missing');
        return { ...doc, status: { ...doc.status, restartCount: (doc.status?.restartCount ?? 0) + 1 } };
      });
    }
  } else if (job.mode === 'put-realm') {
    await store.put(realmWithVersion(job.version ?? ''));
  } else if (job.mode === 'update-realm') {
    await store.update(
      { kind: 'Realm', path: ['r1'] },
      (doc) => doc && { ...doc, metadata: { ...doc.metadata, labels: { ...doc.metadata.labels, version: job.version ?? '' } } },
    );
  } else {
    throw new Error(`unknown mode ${String(job.mode)}`);
  }
  await host.close();
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
