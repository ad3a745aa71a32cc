// biome-ignore-all lint/suspicious/noExplicitAny: Plugin<any> is "a plugin of any config type" (its config is contravariant in apply)
import { createHost } from '../../src/host';
import type { Host, PluginEntry } from '../../src/host';
import storeYaml from '../../plugins/store-yaml';
import { definePlugin } from '../../sdk';
import type { Plugin, PluginHost, Slot } from '../../sdk';
import { tmpDir } from './tmp';

/**
 * A host on a temp run path with store-yaml plus the given plugins. Its locks wait as long as the product's
 * (10 s): tests that hold a lock while another host writes under it must not depend on how fast a loaded CI
 * machine writes (with 2 s, lifecycle's stale-read test once reported its waiting apply as failed).
 */
export async function testHost(plugins: Plugin<any>[] = [], runPath = tmpDir(), lockTimeoutMs = 10_000): Promise<Host> {
  const entries: PluginEntry[] = [{ plugin: storeYaml }, ...plugins.map((plugin) => ({ plugin }))];
  return createHost({ runPath, plugins: entries, env: {}, lockTimeoutMs });
}

/** A plugin whose apply is the given function (for loader and hook tests). */
export function fakePlugin(
  name: string,
  slot: Slot | undefined,
  apply: (host: PluginHost, config: any) => void | Promise<void>,
  extra: Partial<Plugin<any>> = {},
): Plugin<any> {
  return definePlugin<any>({ name, version: '1.0.0', slot, apply, ...extra });
}

export const MANIFEST = `apiVersion: v1beta1
kind: Realm
metadata: { name: main }
---
apiVersion: v1beta1
kind: Space
metadata: { name: blog }
spec: { realmId: main }
---
apiVersion: v1beta1
kind: Stack
metadata: { name: wp }
spec: { realmId: main, spaceId: blog }
---
apiVersion: v1beta1
kind: Cell
metadata: { name: web, labels: { tier: front } }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: nginx, image: "nginx:1.27", args: ["-g", "daemon off;"] }
    - { id: sidecar, image: busybox, command: sleep, args: ["3600"] }
---
apiVersion: v1beta1
kind: Cell
metadata: { name: db, labels: { tier: back } }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: pg, image: "postgres:16", root: true, resources: { memory: { max: 256Mi } } }
`;

export function cellManifest(name: string, containers: string): string {
  return `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
${containers}`;
}
