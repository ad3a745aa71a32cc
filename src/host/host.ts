// createHost: hooks, plugins, services, locks and the controller of one kukeon host. The CLI makes one per
// command in-process; the daemon will make one and serve its controller.

import path from 'node:path';
import createDebug from 'debug';
import { KukeonError } from '../../sdk';
import type { ControllerApi, Hooks, HostPaths, Locks, Plugin, PluginHost, PluginStatus, StoreService } from '../../sdk';
import { BUILTIN_PLUGINS, builtinByName } from './builtins';
import { DEFAULT_CONFIG_PATH, readConfigFile } from './config-file';
import { tapCellSteps } from './controller/cell-steps';
import { Controller } from './controller/controller';
import { VolumeManager } from './scoped/volumes';
import { Lifecycle } from './controller/lifecycle';
import { FileLocks } from './file-locks';
import { createHooks } from './hooks';
import type { HostHooks } from './hooks';
import { PluginLoader } from './plugin-loader';
import type { FailedPluginEntry, PluginEntry } from './plugin-loader';
import { loadPluginModule } from './plugin-modules';
import { HostEvents } from './host-events';
import { ResourceHistory } from './history/resource-history';
import { IntentLocks } from './intent-locks';
import { LocalApi } from './local-api';
import { HostServiceRegistry } from './service-registry';
import { HostStateReader } from './state-reader';
import { VERSION } from './version';
import { DEFAULT_SOCKET } from '../../plugins/api-socket/wire';
import { SecretStaging } from './secrets/secret-staging';
import { SecretStore } from './secrets/secret-store';
import { tapSecrets } from './secrets/secret-taps';

export const DEFAULT_RUN_PATH = '/opt/kukeon';

export interface HostOptions {
  /** `--run-path`; else KUKEON_RUN_PATH; else /opt/kukeon. */
  runPath?: string;
  /** `--config`; else KUKEON_CONFIG; else /etc/kukeon/kukeon.yaml (optional when not asked for). */
  configPath?: string;
  /** Global flags by name (`--containerd-socket`), for plugin config properties that declare one. */
  flags?: Record<string, string | undefined>;
  env?: Record<string, string | undefined>;
  /** The plugin set, instead of the configuration file (tests and distributions). */
  plugins?: (PluginEntry | FailedPluginEntry)[];
  /** How long a phase waits for another operation on the same resource before KUKEON_E_BUSY. */
  lockTimeoutMs?: number;
  /** kukeond's host: the built-in api-socket joins the configured plugins when none of them fills the api slot. */
  daemon?: boolean;
}

export interface Host {
  readonly hooks: Hooks;
  readonly hostHooks: HostHooks;
  readonly services: HostServiceRegistry;
  readonly state: HostStateReader;
  readonly locks: Locks;
  readonly paths: HostPaths;
  readonly plugins: readonly PluginStatus[];
  readonly controller: Controller;
  /** The phases under each resource's lock: the supervisor restarts containers and the start-up pass converges through it. */
  readonly lifecycle: Lifecycle;
  /** The controller as plain data (ControllerApi): what the CLI calls in-process and the daemon serves. */
  readonly api: ControllerApi;
  /** Resource changes written through this host, for watch. */
  readonly events: HostEvents;
  /** What happened to each resource, for describe: kept by the daemon's host only (undefined in-process). */
  readonly history: ResourceHistory | undefined;
  /** Staged secret files (under the socket directory): the supervisor removes a workload's when it exits for good. */
  readonly secretStaging: SecretStaging;
  readonly version: string;
  readonly configPath: string | undefined;
  /** Runs every plugin's onClose, last registered first. */
  close(): Promise<void>;
}

/** A key of `plugins:` is a built-in name, else a module specifier resolved from the file's directory. */
function entriesFromConfig(
  configPath: string,
  explicit: boolean,
): { entries: (PluginEntry | FailedPluginEntry)[]; used: string | undefined } {
  const file = readConfigFile(configPath, explicit);
  if (!file) return { entries: BUILTIN_PLUGINS.map((plugin) => ({ plugin, builtin: true })), used: undefined };
  const baseDir = path.dirname(path.resolve(file.path));
  const entries = file.plugins.map(([name, table]): PluginEntry | FailedPluginEntry => {
    const plugin = builtinByName(name);
    if (plugin) return { plugin, table, builtin: true };
    try {
      return { plugin: loadPluginModule(name, baseDir), table, source: name };
    } catch (err) {
      const builtins = BUILTIN_PLUGINS.map((p) => p.name).join(', ');
      return { source: name, error: `${(err as Error).message} (not a built-in plugin either: ${builtins})` };
    }
  });
  return { entries, used: file.path };
}

export async function createHost(options: HostOptions = {}): Promise<Host> {
  const env = options.env ?? process.env;
  const runPath = path.resolve(options.runPath ?? (env.KUKEON_RUN_PATH || DEFAULT_RUN_PATH));
  const paths: HostPaths = { runPath, runtimeDir: path.join(runPath, 'run') };
  const lockTimeoutMs = options.lockTimeoutMs ?? (Number(env.KUKEON_LOCK_TIMEOUT_MS) || 10_000);
  const locks = new FileLocks(path.join(paths.runtimeDir, 'locks'), { timeoutMs: lockTimeoutMs });

  let loader: PluginLoader | undefined;
  const services = new HostServiceRegistry(() => loader?.currentPlugin() ?? { name: 'kukeon' });
  const { host: hostHooks, sdk: hooks } = createHooks({
    current: () => loader?.current() ?? 'kukeon',
    isActive: (owner) => (loader ? loader.isActive(owner) : owner === 'kukeon'),
  });
  const events = new HostEvents();
  let observed: { raw: StoreService; store: StoreService } | undefined;
  const store = (): StoreService => {
    const s = services.get('store');
    if (!s) throw new KukeonError('KUKEON_E_NO_STORE');
    if (observed?.raw !== s) observed = { raw: s, store: events.observe(s) };
    return observed.store;
  };
  const state = new HostStateReader(() => services.get('store'));
  const statuses = (): PluginStatus[] => loader?.statuses ?? [];
  const hasRuntime = () => statuses().some((p) => p.slot === 'runtime' && p.state === 'ok');
  const lifecycle = new Lifecycle({ hooks: hostHooks, store, state, locks, hasRuntime, lockTimeoutMs });
  tapCellSteps(hostHooks, lifecycle);

  const closers: (() => void | Promise<void>)[] = [];
  const onClose = (fn: () => void | Promise<void>) => void closers.push(fn);
  const close = async () => {
    while (closers.length) await closers.pop()!();
  };
  const pluginHost = (plugin: Plugin<unknown>): PluginHost =>
    Object.freeze({
      hooks,
      services,
      state,
      locks,
      paths,
      log: createDebug(`kukeon:${plugin.name}`),
      version: VERSION,
      daemon: options.daemon === true,
      onClose,
    });
  loader = new PluginLoader({ flags: options.flags ?? {}, env }, pluginHost, (owner) => services.dropOwner(owner));

  const configPath = options.configPath ?? (env.KUKEON_CONFIG || undefined);
  const { entries, used } = options.plugins
    ? { entries: options.plugins, used: undefined }
    : entriesFromConfig(configPath ?? DEFAULT_CONFIG_PATH, configPath !== undefined);
  // Staged secrets live beside the socket (on tmpfs): the socket as kukeond resolves it, flag > env > file > default.
  const apiTable = entries.find((e) => 'plugin' in e && e.plugin?.name === 'api-socket') as PluginEntry | undefined;
  const socket =
    options.flags?.['--socket'] || env.KUKEON_SOCKET || (apiTable?.table as { socket?: string } | undefined)?.socket || DEFAULT_SOCKET;
  const secrets = new SecretStore(store, locks);
  const secretStaging = new SecretStaging(path.join(path.dirname(path.resolve(socket)), 'secrets'), runPath);
  tapSecrets(hostHooks, { secrets, staging: secretStaging, env });
  const needsApi = options.daemon && !entries.some((e) => 'plugin' in e && e.plugin?.slot === 'api');
  await loader.load(needsApi ? [...entries, { plugin: builtinByName('api-socket')!, builtin: true }] : entries);

  const storeStatus = loader.statuses.find((p) => p.slot === 'store');
  if (storeStatus?.state !== 'ok' || !services.get('store')) {
    // A plugin module that failed to load may have been meant as the store: say so.
    const unloaded = loader.statuses
      .filter((p) => p.source !== undefined && p.state === 'error' && p.slot === undefined)
      .map((p) => `; ${p.reason}`);
    const why = storeStatus
      ? `plugin ${storeStatus.name} is ${storeStatus.state}${storeStatus.reason ? `: ${storeStatus.reason}` : ''}`
      : `no plugin fills the store slot${unloaded.join('')}`;
    throw new KukeonError('KUKEON_E_NO_STORE', `kukeon cannot start without a store (${why})`);
  }

  // Only the daemon lives long enough for a history to mean something; in-process, describe says so.
  const history = options.daemon ? new ResourceHistory() : undefined;
  if (history) closers.push(history.attach(events, services.get('runtime.events')));

  const intents = new IntentLocks();
  const volumes = new VolumeManager({ store, locks, runPath, runtimeDir: paths.runtimeDir, lockTimeoutMs });
  const controller = new Controller({
    hooks: hostHooks,
    store,
    state,
    services,
    lifecycle,
    plugins: statuses,
    hasRuntime,
    intents,
    volumes,
    secrets,
  });
  const host: Host = Object.freeze({
    hooks,
    events,
    history,
    secretStaging,
    get api(): ControllerApi {
      return api;
    },
    hostHooks,
    services,
    state,
    locks,
    paths,
    plugins: loader.statuses,
    controller,
    lifecycle,
    version: VERSION,
    configPath: used,
    close,
  });
  const api: ControllerApi = new LocalApi(host);
  return host;
}
