// A plugin's config: its table from the configuration file, overridden by the environment variable and then the
// flag that a property declares (`x-env`, `x-flag`), with defaults filled and types coerced by ajv.

import Ajv from 'ajv';
import { KukeonError } from '../../sdk';
import type { Plugin } from '../../sdk';

// The meta-schema is compiled only when a schema needs checking against it: compiling it costs ~70 ms of a start.
const ajv = new Ajv({ allErrors: false, useDefaults: true, coerceTypes: true, strict: true, validateSchema: false });
ajv.addKeyword({ keyword: 'x-flag', schemaType: 'string' });
ajv.addKeyword({ keyword: 'x-env', schemaType: 'string' });

export interface ConfigSources {
  /** Global flags as given on the command line, keyed with their dashes (`--containerd-socket`). */
  flags: Readonly<Record<string, string | undefined>>;
  env: Readonly<Record<string, string | undefined>>;
}

export interface ResolveOptions {
  /** Check the plugin's schema against JSON Schema's meta-schema first (every plugin but the built-ins). */
  checkSchema?: boolean;
}

/** Whether `schema` is a valid JSON Schema (draft-07, with kukeon's `x-flag`/`x-env`); the errors as one line, else. */
export function checkConfigSchema(schema: object): string | undefined {
  if (ajv.validateSchema(schema)) return undefined;
  return ajv.errorsText(ajv.errors, { dataVar: 'configSchema' });
}

export function resolvePluginConfig(
  plugin: Plugin<unknown>,
  table: unknown,
  sources: ConfigSources,
  options: ResolveOptions = { checkSchema: true },
): Record<string, unknown> {
  if (table !== undefined && table !== null && (typeof table !== 'object' || Array.isArray(table))) {
    throw new KukeonError('KUKEON_E_CONFIG', `plugins.${plugin.name} must be a map of settings`, {
      plugin: plugin.name,
      field: `plugins.${plugin.name}`,
    });
  }
  const config: Record<string, unknown> = { ...((table as Record<string, unknown>) ?? {}) };
  const schema = plugin.configSchema ?? { type: 'object' as const, additionalProperties: false, properties: {} };
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const fromEnv = prop['x-env'] ? sources.env[prop['x-env']] : undefined;
    const fromFlag = prop['x-flag'] ? sources.flags[prop['x-flag']] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') config[key] = fromEnv;
    if (fromFlag !== undefined) config[key] = fromFlag;
  }
  const invalid = options.checkSchema ? checkConfigSchema(schema) : undefined;
  if (invalid)
    throw new KukeonError('KUKEON_E_PLUGIN_META', `plugin ${plugin.name} has an invalid configSchema: ${invalid}`, { plugin: plugin.name });
  const validate = ajv.compile(schema);
  if (!validate(config)) {
    const e = validate.errors![0];
    const missing = e.keyword === 'required' ? `.${(e.params as { missingProperty: string }).missingProperty}` : '';
    const extra = e.keyword === 'additionalProperties' ? `.${(e.params as { additionalProperty: string }).additionalProperty}` : '';
    const field = `plugins.${plugin.name}${e.instancePath.replace(/\//g, '.')}${missing}${extra}`;
    const reason = e.keyword === 'additionalProperties' ? 'unknown setting' : (e.message ?? 'invalid');
    throw new KukeonError('KUKEON_E_CONFIG', `${field}: ${reason}`, { plugin: plugin.name, field });
  }
  return config;
}
