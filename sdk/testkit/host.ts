// biome-ignore-all lint/suspicious/noExplicitAny: Plugin<any> is "a plugin of any config type" (its config is contravariant in apply)
// The kit's one way into kukeon's host: the host's public entry (the `kukeon` package's main export,
// dist/src/host/index.js of this same package), required at run time, so a plugin under test is loaded, checked
// and applied exactly as the configuration file would load it, against the real lock, service registry and
// controller. The kit's types stay within kukeon/sdk: the narrow interfaces below describe what it uses.

import type { AnyDoc, Kind, Plugin, PluginStatus, Ref, StoreService } from '..';

export interface KitHost {
  readonly plugins: readonly PluginStatus[];
  readonly services: { get(name: 'store'): StoreService | undefined };
  readonly controller: {
    apply(text: string): Promise<{ items: { ref: Ref; action: string; error?: string }[] }>;
    get(query: { kind: Kind; scope: string[]; name?: string }): Promise<AnyDoc[]>;
    delete(ref: Ref, options?: { cascade?: boolean }): Promise<unknown>;
  };
  close(): Promise<void>;
}

export interface KitHostOptions {
  runPath: string;
  env: Record<string, string | undefined>;
  plugins: { plugin: Plugin<any>; table?: unknown; source?: string }[];
  lockTimeoutMs?: number;
}

interface HostEntry {
  createHost(options: KitHostOptions): Promise<KitHost>;
  loadPluginModule(specifier: string, baseDir: string): Plugin<any>;
}

let entry: HostEntry | undefined;

/** The host's entry, loaded on first use (plugin authors import the kit; only running it needs the host). */
export function hostEntry(): HostEntry {
  return (entry ??= require('../../src/host') as HostEntry);
}
