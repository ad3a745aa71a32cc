// A cell's attachment: ADD on its root's network namespace (eth0) in attachNetwork, DEL in detachNetwork and on
// delete, CHECK on refresh. The result of ADD is cached (for DEL and CHECK) with the identity of the namespace,
// so a DEL after the root died never enters another process's namespace: it runs without CNI_NETNS instead.

import fs from 'node:fs';
import { KukeonError, failpoint, formatRef, writeFileAtomicSync } from '../../sdk';
import type { CellContext, CellNetworkStatus, CellWorkingStatus, ContainerDoc, Ref, SpaceDoc, Undo } from '../../sdk';
import { attachmentOf } from './cni-result';
import type { CniResult } from './cni-result';
import { CniRunner } from './cni-runner';
import type { AttachParams, NetworkList } from './cni-runner';
import { cniContainerId, spaceNetworkNames } from './naming';
import type { CachedAttachment, ResultCache } from './result-cache';
import type { SpaceNetworks } from './space-network';
import { readFileIfExists } from './read-file';

export const IFNAME = 'eth0';
/** The reason a refresh sets on a cell whose attachment is broken. */
export const BROKEN_REASON = 'NetworkBroken';

export interface CellNetworkDeps {
  runner: CniRunner;
  cache: ResultCache;
  spaces: SpaceNetworks;
}

/** `<dev>:<inode>` of a namespace file, or undefined when it is gone. */
export function namespaceId(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    const st = fs.statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** portmap's runtimeConfig.portMappings from the cell's published ports. */
export function portMappings(
  containers: readonly ContainerDoc[],
): { hostPort: number; containerPort: number; protocol: string; hostIP?: string }[] {
  return containers.flatMap((c) =>
    (c.spec.ports ?? [])
      .filter((p) => p.hostPort !== undefined)
      .map((p) => ({
        hostPort: p.hostPort!,
        containerPort: p.containerPort,
        protocol: p.protocol ?? 'tcp',
        ...(p.hostIP ? { hostIP: p.hostIP } : {}),
      })),
  );
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export class CellNetworks {
  constructor(private readonly d: CellNetworkDeps) {}

  static onHostNetwork(containers: readonly ContainerDoc[]): boolean {
    return containers.some((c) => c.spec.hostNetwork === true);
  }

  /** The space's conflist: the file in the CNI directory; rewritten from the space's saved network when missing. */
  private conflist(realm: string, space: string, spaceDoc: SpaceDoc | undefined, cellRef: Ref): { text: string; list: NetworkList } {
    const net = spaceDoc?.status?.network;
    if (!net?.subnet) {
      throw new KukeonError(
        'KUKEON_E_STATE',
        `${formatRef(cellRef)}: space ${realm}/${space} has no network (it was made before the cni plugin was configured); run kuke refresh to give it one`,
        { plugin: 'cni' },
      );
    }
    const file = net.conflistPath ?? this.d.spaces.conflistPath(realm, space, spaceDoc);
    let text = readFileIfExists(file);
    if (text === undefined) {
      text = this.d.spaces.expected(realm, space, net);
      writeFileAtomicSync(file, text);
    }
    return { text, list: CniRunner.parseList(text) };
  }

  private static statusOf(result: CniResult): { ip?: string; network: CellNetworkStatus } {
    const a = attachmentOf(result, IFNAME);
    return {
      ip: a?.ip,
      network: {
        state: 'Attached',
        interface: a?.interface ?? IFNAME,
        address: a?.address,
        gateway: a?.gateway,
        mac: a?.mac,
        hostInterface: a?.hostInterface,
      },
    };
  }

  /** DEL of a cached attachment, with its own configuration; without CNI_NETNS when its namespace is gone. */
  async release(entry: CachedAttachment): Promise<void> {
    const list = CniRunner.parseList(Buffer.from(entry.config, 'base64').toString('utf8'));
    const alive = entry.netns && entry.kukeon?.netnsId && namespaceId(entry.netns) === entry.kukeon.netnsId;
    await this.d.runner.del(
      list,
      {
        containerId: entry.containerId,
        ifname: entry.ifName,
        netns: alive ? entry.netns : undefined,
        capabilityArgs: entry.capabilityArgs,
      },
      entry.result,
    );
    this.d.cache.remove(entry.networkName, entry.containerId, entry.ifName);
  }

  /** attachNetwork: ADD (or keep an attachment that CHECK still passes), the IP into the cell's status. */
  async attach(ctx: CellContext): Promise<Undo | undefined> {
    if (CellNetworks.onHostNetwork(ctx.containers)) {
      ctx.status.ip = undefined;
      ctx.status.network = { state: 'Host' };
      return undefined;
    }
    const [realm, space] = ctx.ref.path;
    const { text, list } = this.conflist(realm, space, ctx.parents.space, ctx.ref);
    const netns = ctx.status.root?.netns;
    const netnsId = namespaceId(netns);
    if (!netns || !netnsId)
      throw new KukeonError(
        'KUKEON_E_STEP',
        `${formatRef(ctx.ref)}: the root container has no network namespace to attach (${netns ?? 'none recorded'})`,
        { plugin: 'cni' },
      );
    const containerId = cniContainerId(ctx.ref.path);
    const params: AttachParams = { containerId, netns, ifname: IFNAME, capabilityArgs: { portMappings: portMappings(ctx.containers) } };
    const cached = this.d.cache.load(list.name, containerId, IFNAME);
    if (cached) {
      // Started again while attached (a re-start, or a start after a crash): keep a healthy attachment, redo any other.
      const same =
        cached.kukeon?.netnsId === netnsId &&
        cached.netns === netns &&
        sameJson(cached.capabilityArgs, params.capabilityArgs) &&
        Buffer.from(cached.config, 'base64').toString('utf8') === text;
      if (same) {
        const healthy = await this.d.runner.check(list, params, cached.result).then(
          () => true,
          () => false,
        );
        if (healthy) {
          Object.assign(ctx.status, CellNetworks.statusOf(cached.result as CniResult));
          return undefined;
        }
      }
      await this.release(cached);
    } else if (interfaceIn(netns, IFNAME)) {
      // An ADD killed before its result was cached (a crash during the last start) left eth0 and a lease behind;
      // a new ADD refuses an existing eth0. DEL takes them back (without a result, as the specification allows).
      await this.d.runner.del(list, params, undefined);
    }
    const result = await this.d.runner.add(list, params);
    failpoint('cni.after-add'); // a crash here leaves eth0 and a lease that no cached result records
    this.d.cache.save({
      kind: 'cniCacheV1',
      containerId,
      config: Buffer.from(text, 'utf8').toString('base64'),
      ifName: IFNAME,
      networkName: list.name,
      netns,
      capabilityArgs: params.capabilityArgs,
      result,
      kukeon: { netnsId, cell: ctx.ref.path.join('/'), addedAt: new Date().toISOString() },
    });
    const attached = CellNetworks.statusOf(result);
    if (!attached.ip) {
      await this.release(this.d.cache.load(list.name, containerId, IFNAME)!);
      throw new KukeonError('KUKEON_E_CNI', `${formatRef(ctx.ref)}: the network ${list.name} gave the cell no IPv4 address`, {
        plugin: 'cni',
      });
    }
    Object.assign(ctx.status, attached);
    return async () => {
      const entry = this.d.cache.load(list.name, containerId, IFNAME);
      if (entry) await this.release(entry);
    };
  }

  /**
   * detachNetwork, delete and purge: DEL of what is attached. Without a cached result (lost, or never written)
   * a DEL with the space's conflist and no namespace still releases the lease and the port mappings; `always`
   * runs it even when nothing says the cell was attached (purge).
   */
  async detach(ref: Ref, status: CellWorkingStatus | undefined, spaceDoc: SpaceDoc | undefined, always = false): Promise<void> {
    const [realm, space] = ref.path;
    const network = spaceNetworkNames(realm, space).network;
    const containerId = cniContainerId(ref.path);
    if (status?.network?.state === 'Host') {
      status.network = undefined;
      return;
    }
    const cached = this.d.cache.load(network, containerId, IFNAME);
    if (cached) await this.release(cached);
    else if (always || status?.ip || status?.network) {
      const file = spaceDoc?.status?.network?.conflistPath ?? this.d.spaces.conflistPath(realm, space, spaceDoc);
      const text = readFileIfExists(file) ?? readFileIfExists(this.d.spaces.copyPath(realm, space));
      if (text !== undefined) await this.d.runner.del(CniRunner.parseList(text), { containerId, ifname: IFNAME }, undefined);
    }
    if (status) {
      status.ip = undefined;
      status.network = undefined;
    }
  }

  /** refresh: CHECK of an attached cell; a failure marks the network Broken and a Ready cell Failed. */
  async check(ref: Ref, status: CellWorkingStatus, spaceDoc: SpaceDoc | undefined): Promise<CellWorkingStatus> {
    const net = status.network;
    if (net?.state !== 'Attached' && net?.state !== 'Broken') return status;
    const [realm, space] = ref.path;
    const network = spaceNetworkNames(realm, space).network;
    const containerId = cniContainerId(ref.path);
    const cached = this.d.cache.load(network, containerId, IFNAME);
    let problem: string | undefined;
    if (!cached) problem = 'the cached CNI result is gone';
    else if (!cached.kukeon?.netnsId || namespaceId(cached.netns) !== cached.kukeon.netnsId)
      problem = "the root's network namespace is gone";
    else {
      const file = spaceDoc?.status?.network?.conflistPath ?? this.d.spaces.conflistPath(realm, space, spaceDoc);
      const text = readFileIfExists(file) ?? Buffer.from(cached.config, 'base64').toString('utf8');
      try {
        await this.d.runner.check(
          CniRunner.parseList(text),
          { containerId, netns: cached.netns, ifname: IFNAME, capabilityArgs: cached.capabilityArgs },
          cached.result,
        );
      } catch (err) {
        problem = (err as Error).message;
      }
    }
    if (problem) {
      const next: CellWorkingStatus = { ...status, network: { ...net, state: 'Broken', message: problem } };
      if (status.state === 'Ready') Object.assign(next, { state: 'Failed', reason: BROKEN_REASON, message: `network: ${problem}` });
      return next;
    }
    const next: CellWorkingStatus = { ...status, network: { ...net, state: 'Attached', message: undefined } };
    if (status.reason === BROKEN_REASON) Object.assign(next, { state: 'Ready', reason: undefined, message: undefined });
    return next;
  }
}

/**
 * Whether the namespace `/proc/<pid>/ns/net` already has `ifname`: its process's /proc/<pid>/net/dev lists the
 * interfaces of the namespace it is in. False for another kind of path (nothing to read without entering it).
 */
function interfaceIn(netns: string, ifname: string): boolean {
  const m = /^\/proc\/(\d+)\/ns\/net$/.exec(netns);
  if (!m) return false;
  let dev: string | undefined;
  try {
    dev = readFileIfExists(`/proc/${m[1]}/net/dev`);
  } catch {
    return false; // unreadable: ADD says what is wrong
  }
  return dev?.split('\n').some((line) => line.trim().startsWith(`${ifname}:`)) === true;
}
