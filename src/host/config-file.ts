// The configuration file (default /etc/kukeon/kukeon.yaml): `plugins:` maps a plugin name to its config table.
// Exactly the listed plugins load; with no file, every built-in loads and each skips where its backend is absent.

import fs from 'node:fs';
import YAML from 'yaml';
import { KukeonError } from '../../sdk';

export const DEFAULT_CONFIG_PATH = '/etc/kukeon/kukeon.yaml';

export interface ConfigFile {
  path: string;
  /** Plugin name -> its table, in file order. */
  plugins: [string, unknown][];
}

/** Reads the file; undefined when it is absent and was not asked for explicitly. */
export function readConfigFile(path: string, explicit: boolean): ConfigFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return undefined;
    throw new KukeonError('KUKEON_E_CONFIG', `cannot read configuration ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (err) {
    throw new KukeonError('KUKEON_E_CONFIG', `${path}: not valid YAML: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new KukeonError('KUKEON_E_CONFIG', `${path}: the top level must be a map with a plugins: key`);
  }
  for (const key of Object.keys(data as object)) {
    if (key !== 'plugins')
      throw new KukeonError('KUKEON_E_CONFIG', `${path}: unknown top-level key "${key}" (expected plugins)`, { field: key });
  }
  const plugins = (data as { plugins?: unknown }).plugins ?? {};
  if (typeof plugins !== 'object' || Array.isArray(plugins) || plugins === null) {
    throw new KukeonError('KUKEON_E_CONFIG', `${path}: plugins must be a map from plugin name to its settings`, { field: 'plugins' });
  }
  return { path, plugins: Object.entries(plugins as Record<string, unknown>) };
}
