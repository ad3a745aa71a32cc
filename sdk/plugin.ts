import type { PluginHost } from './host';

export const SLOTS = ['store', 'runtime', 'network', 'cgroups', 'api', 'cri'] as const;
/**
 * A backend slot: at most one plugin fills each; `store` is required. The daemon's front ends are one slot per
 * protocol: `api` serves kukeon.v1 to kuke, `cri` serves the Kubernetes CRI (runtime.v1) to the kubelet; kukeond
 * serves every front end slot that is filled, all of them over the one controller.
 */
export type Slot = (typeof SLOTS)[number];

/**
 * A JSON Schema (draft 2020-12 subset, checked with ajv) for a plugin's config table. A property may declare
 * the CLI flag and environment variable that override it: precedence is flag > env > file > default.
 */
export interface ConfigSchema {
  type: 'object';
  properties?: Record<string, ConfigProperty>;
  required?: string[];
  additionalProperties?: boolean;
}

export interface ConfigProperty {
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
  description?: string;
  default?: unknown;
  enum?: unknown[];
  items?: unknown;
  minimum?: number;
  /** `--containerd-socket`: the global flag that overrides this key. */
  'x-flag'?: string;
  /** `KUKEON_CONTAINERD_SOCKET`: the environment variable that overrides this key. */
  'x-env'?: string;
  [keyword: string]: unknown;
}

export interface Plugin<Config = Record<string, unknown>> {
  /** Unique; the key of the plugin's table in the configuration file. */
  name: string;
  version: string;
  slot?: Slot;
  /** Slots that must be filled for this plugin to work; the loader orders plugins after them. */
  requires?: Slot[];
  configSchema?: ConfigSchema;
  /**
   * Taps hooks and provides services. Opens no backend connection; throws PluginSkip(reason) when the plugin
   * does not apply on this host.
   */
  apply(host: PluginHost, config: Config): void | Promise<void>;
}

/** Identity function that types a plugin object; third-party plugins export `definePlugin({...})`. */
export function definePlugin<Config = Record<string, unknown>>(plugin: Plugin<Config>): Plugin<Config> {
  return plugin;
}

export type PluginState = 'ok' | 'skip' | 'error';

/** What `kuke plugins ls` shows for each plugin. */
export interface PluginStatus {
  name: string;
  version: string;
  slot?: Slot;
  state: PluginState;
  reason?: string;
  /** Milliseconds spent in apply. */
  applyMs?: number;
  /** The module specifier of a third-party plugin, as written in the configuration file (absent for built-ins). */
  source?: string;
}
