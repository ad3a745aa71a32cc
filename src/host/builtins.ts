// biome-ignore-all lint/suspicious/noExplicitAny: Plugin<any> is "a plugin of any config type" (its config is contravariant in apply)
// The built-in plugins, assembled in one place (as Vite's resolvePlugins): each is an ordinary plugin that only
// taps the host's hooks and provides its slot's services, so a configuration can swap any of them out.

import type { Plugin } from '../../sdk';
import apiCri from '../../plugins/api-cri';
import apiSocket from '../../plugins/api-socket';
import cgroupv2 from '../../plugins/cgroupv2';
import cni from '../../plugins/cni';
import containerd from '../../plugins/containerd';
import storeYaml from '../../plugins/store-yaml';

export const BUILTIN_PLUGINS: readonly Plugin<any>[] = [storeYaml, containerd, cni, cgroupv2, apiSocket];

/** Built in but loaded only when the configuration lists them: the Kubernetes front end is opt-in. */
export const OPT_IN_PLUGINS: readonly Plugin<any>[] = [apiCri];

export function builtinByName(name: string): Plugin<any> | undefined {
  return BUILTIN_PLUGINS.find((p) => p.name === name) ?? OPT_IN_PLUGINS.find((p) => p.name === name);
}
