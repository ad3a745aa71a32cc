// The paths and backend settings of one kukeon host, resolved as the daemon resolves them (flag > env > file >
// default, from the built-in plugins' schemas): what init creates and mounts into kukeond, and what uninstall
// removes. A plugin the configuration file does not list has no setting here (init makes nothing for it).

import path from 'node:path';
import { DEFAULT_SOCKET } from '../../../plugins/api-socket/wire';
import { builtinByName } from '../builtins';
import { DEFAULT_CONFIG_PATH, readConfigFile } from '../config-file';
import { DEFAULT_RUN_PATH } from '../host';
import { resolvePluginConfig } from '../plugin-config';

export const DEFAULT_GROUP = 'kukeon';

export interface InstallOptions {
  runPath?: string;
  configPath?: string;
  socket?: string;
  containerdSocket?: string;
  /** The socket's group (`--group`, env KUKEON_SOCKET_GROUP, the api-socket plugin's `group`, default kukeon). */
  group?: string;
  env?: NodeJS.ProcessEnv;
}

export interface CniSettings {
  confDir: string;
  binDirs: string[];
  cacheDir: string;
  ipamDataDir: string;
}

export interface InstallSettings {
  runPath: string;
  /** The configuration file kukeond reads, and whether it exists (without one every built-in loads with its defaults). */
  configPath: string;
  configExists: boolean;
  socket: string;
  group: string;
  containerdSocket: string;
  /** The containerd plugin's pause binary setting, if any. */
  pauseBinary?: string;
  /** The cgroupv2 plugin's root, when that plugin is configured. */
  cgroupRoot?: string;
  cni?: CniSettings;
}

export function installSettings(options: InstallOptions = {}): InstallSettings {
  const env = options.env ?? process.env;
  const runPath = path.resolve(options.runPath ?? (env.KUKEON_RUN_PATH || DEFAULT_RUN_PATH));
  const explicit = options.configPath ?? (env.KUKEON_CONFIG || undefined);
  const configPath = path.resolve(explicit ?? DEFAULT_CONFIG_PATH);
  const file = readConfigFile(configPath, explicit !== undefined);
  const tables = new Map<string, unknown>(file ? file.plugins : ['containerd', 'cni', 'cgroupv2', 'api-socket'].map((n) => [n, {}]));
  const flags = { '--socket': options.socket, '--containerd-socket': options.containerdSocket };
  const configOf = (name: string): Record<string, unknown> | undefined => {
    if (!tables.has(name)) return undefined;
    return resolvePluginConfig(builtinByName(name)!, tables.get(name), { flags, env }, { checkSchema: false });
  };
  // kukeond always serves through api-socket (its defaults when the file does not list it)
  const api = configOf('api-socket') ?? resolvePluginConfig(builtinByName('api-socket')!, {}, { flags, env }, { checkSchema: false });
  const containerd = configOf('containerd');
  const cgroups = configOf('cgroupv2');
  const cni = configOf('cni');
  return {
    runPath,
    configPath,
    configExists: file !== undefined,
    socket: path.resolve((api.socket as string) ?? DEFAULT_SOCKET),
    group: options.group ?? (env.KUKEON_SOCKET_GROUP || (api.group as string) || DEFAULT_GROUP),
    containerdSocket: path.resolve(
      (containerd?.socket as string) ?? options.containerdSocket ?? (env.KUKEON_CONTAINERD_SOCKET || '/run/containerd/containerd.sock'),
    ),
    pauseBinary: containerd?.pauseBinary as string | undefined,
    cgroupRoot: cgroups?.root as string | undefined,
    cni: cni && {
      confDir: path.resolve(cni.confDir as string),
      binDirs: (cni.binDirs as string[]).map((d) => path.resolve(d)),
      cacheDir: path.resolve(cni.cacheDir as string),
      ipamDataDir: path.resolve(cni.ipamDataDir as string),
    },
  };
}
