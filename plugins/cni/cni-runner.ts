// Runs a network configuration list as the specification's runtime does: each plugin gets the list's `name` and
// `cniVersion`, the capability args it declares (`runtimeConfig`), and `prevResult` (for ADD the previous
// plugin's result; for CHECK and DEL the cached result of ADD). DEL runs the list in reverse; a failed ADD is
// rolled back with a DEL of the whole list. Every binary is looked up before the first one runs, so a missing
// plugin fails early and by name.

import fs from 'node:fs';
import path from 'node:path';
import { KukeonError } from '../../sdk';
import { CniError } from './cni-error';
import { invokeCni } from './cni-invoke';
import type { CniCommand } from './cni-invoke';
import { parseCniResult } from './cni-result';
import type { CniResult } from './cni-result';

export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  ipam?: { type?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface NetworkList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean | string;
  plugins: PluginConf[];
}

/** Who is attached: the spec's runtime parameters for one container and interface. */
export interface AttachParams {
  containerId: string;
  /** Empty for a DEL whose namespace is gone. */
  netns?: string;
  ifname: string;
  /** By capability name (`portMappings`): passed to plugins that declare the capability. */
  capabilityArgs?: Record<string, unknown>;
  args?: string;
}

export interface RunnerOptions {
  binDirs: readonly string[];
  /** A command line every plugin runs under (tests: `nsenter --net=/run/netns/NAME`). */
  prefix?: readonly string[];
  timeoutMs?: number;
}

const invalid = (why: string) => new KukeonError('KUKEON_E_CNI', `invalid network configuration list: ${why}`, { plugin: 'cni' });

export class CniRunner {
  constructor(private readonly options: RunnerOptions) {}

  /** Parses and checks a conflist's text. */
  static parseList(text: string): NetworkList {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw invalid(`not JSON (${(err as Error).message})`);
    }
    const list = raw as NetworkList;
    if (!list || typeof list !== 'object') throw invalid('not an object');
    if (typeof list.cniVersion !== 'string') throw invalid('cniVersion is missing');
    if (typeof list.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(list.name))
      throw invalid('name is missing or not a valid network name');
    if (!Array.isArray(list.plugins) || list.plugins.length === 0) throw invalid('plugins must be a non-empty list');
    list.plugins.forEach((p, i) => {
      if (!p || typeof p.type !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(p.type))
        throw invalid(`plugins[${i}].type is missing or not a file name`);
    });
    return list;
  }

  /** The absolute path of plugin `type`: the first of binDirs holding an executable of that name. */
  findBinary(type: string): string {
    for (const dir of this.options.binDirs) {
      const p = path.join(dir, type);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        if (fs.statSync(p).isFile()) return p;
      } catch {
        // not in this directory
      }
    }
    throw new KukeonError('KUKEON_E_CNI', `CNI plugin binary "${type}" not found in ${this.options.binDirs.join(', ')}`, {
      plugin: 'cni',
      hint: 'install the CNI plugins (Debian: containernetworking-plugins) or set plugins.cni.binDirs',
    });
  }

  /** Every binary a list runs: its plugins and the IPAM plugins they delegate to. */
  static binariesOf(list: NetworkList): string[] {
    const types = list.plugins.flatMap((p) => [p.type, ...(typeof p.ipam?.type === 'string' ? [p.ipam.type] : [])]);
    return [...new Set(types)];
  }

  /** The configuration one plugin of the list receives. */
  static pluginConfig(
    list: NetworkList,
    plugin: PluginConf,
    prevResult: unknown,
    capabilityArgs: Record<string, unknown> = {},
  ): Record<string, unknown> {
    const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
      if (on === true && capabilityArgs[cap] !== undefined) runtimeConfig[cap] = capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length) conf.runtimeConfig = runtimeConfig;
    if (prevResult !== undefined) conf.prevResult = prevResult;
    return conf;
  }

  private run(command: CniCommand, binary: string, conf: unknown, p: AttachParams): Promise<unknown> {
    return invokeCni({
      binary,
      command,
      containerId: p.containerId,
      netns: p.netns,
      ifname: p.ifname,
      args: p.args,
      path: this.options.binDirs,
      config: conf,
      prefix: this.options.prefix,
      timeoutMs: this.options.timeoutMs,
    });
  }

  /** ADD through the whole list; on a failure, DEL of the whole list (reverse), then the error. */
  async add(list: NetworkList, p: AttachParams): Promise<CniResult> {
    const binaries = new Map(CniRunner.binariesOf(list).map((t) => [t, this.findBinary(t)]));
    let prev: unknown;
    for (const plugin of list.plugins) {
      try {
        prev = await this.run('ADD', binaries.get(plugin.type)!, CniRunner.pluginConfig(list, plugin, prev, p.capabilityArgs), p);
        if (prev === undefined) throw new CniError(plugin.type, 'ADD', undefined, 'printed no result');
        // A malformed result is a failed ADD too: rolled back, or its lease and interface would stay behind.
        if (plugin === list.plugins[list.plugins.length - 1]) return resultOf(plugin.type, prev);
      } catch (err) {
        await this.del(list, p, undefined).catch(() => undefined);
        throw err;
      }
    }
    throw new KukeonError('KUKEON_E_CNI', `the network configuration list ${list.name} has no plugins`, { plugin: 'cni' });
  }

  /** CHECK through the whole list with the cached result; throws the first plugin's error. */
  async check(list: NetworkList, p: AttachParams, cached: unknown): Promise<void> {
    if (list.disableCheck === true || list.disableCheck === 'true') return;
    const binaries = new Map(CniRunner.binariesOf(list).map((t) => [t, this.findBinary(t)]));
    for (const plugin of list.plugins) {
      try {
        await this.run('CHECK', binaries.get(plugin.type)!, CniRunner.pluginConfig(list, plugin, cached, p.capabilityArgs), p);
      } catch (err) {
        if (portmapIpv6Quirk(plugin, err, cached)) continue;
        throw err;
      }
    }
  }

  /** DEL through the list in reverse, with the cached result when there is one. Plugins succeed when parts are gone. */
  async del(list: NetworkList, p: AttachParams, cached: unknown): Promise<void> {
    const binaries = new Map(CniRunner.binariesOf(list).map((t) => [t, this.findBinary(t)]));
    for (const plugin of [...list.plugins].reverse()) {
      await this.run('DEL', binaries.get(plugin.type)!, CniRunner.pluginConfig(list, plugin, cached, p.capabilityArgs), p);
    }
  }

  /** VERSION of one plugin: the spec versions it supports. */
  async versions(type: string): Promise<string[]> {
    const out = (await invokeCni({
      binary: this.findBinary(type),
      command: 'VERSION',
      path: this.options.binDirs,
      config: { cniVersion: '1.0.0' },
      prefix: this.options.prefix,
      timeoutMs: this.options.timeoutMs,
    })) as { supportedVersions?: unknown };
    return Array.isArray(out?.supportedVersions) ? out.supportedVersions.map(String) : [];
  }
}

/** The list's result, checked; an invalid one is that plugin's failed ADD, by name. */
function resultOf(plugin: string, raw: unknown): CniResult {
  try {
    return parseCniResult(raw);
  } catch (err) {
    throw new CniError(plugin, 'ADD', undefined, (err as Error).message.replace(/^a CNI plugin returned /, 'returned '));
  }
}

/**
 * portmap 1.1.1's CHECK also looks for its IPv6 chain when ip6tables exists, whatever the addresses, and fails
 * for every IPv4-only attachment ("could not check ipv6 dnat"). That one error is not a broken attachment.
 */
function portmapIpv6Quirk(plugin: PluginConf, err: unknown, cached: unknown): boolean {
  if (plugin.type !== 'portmap' || !(err instanceof CniError) || !/could not check ipv6 dnat/.test(err.cniMessage)) return false;
  const ips = (cached as CniResult | undefined)?.ips ?? [];
  return !ips.some((ip) => ip.address.includes(':'));
}
