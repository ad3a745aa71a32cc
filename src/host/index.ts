// kukeon's host: the entry point for the CLI, the daemon and tests.
export { createHost, DEFAULT_RUN_PATH } from './host';
export type { Host, HostOptions } from './host';
export type { ApplyOptions, OperationOptions } from './controller/controller';
export { SCHEMAS } from './validation/schemas';
export { BUILTIN_PLUGINS } from './builtins';
export type { FailedPluginEntry, PluginEntry } from './plugin-loader';
export { loadPluginModule } from './plugin-modules';
