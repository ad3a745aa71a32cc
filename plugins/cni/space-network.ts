// A space's network: its subnet (claimed in the registry), its conflist in the CNI directory plus the byte-identical
// copy beside the space's state, and its isolation rules. Creating is idempotent (a re-apply converges); removing
// succeeds when parts are already gone and never deletes a conflist that is not this space's.

import fs from 'node:fs';
import path from 'node:path';
import { Ipv4Cidr, KukeonError, formatRef, writeFileAtomicSync } from '../../sdk';
import type { PluginHost, Ref, SpaceDoc, SpaceNetworkStatus, SpaceStatus, Undo } from '../../sdk';
import { readFileIfExists } from './read-file';
import type { CniConfig } from './config';
import { buildConflist } from './conflist';
import type { HostCommand } from './host-command';
import { readIpv4Routes } from './host-routes';
import type { Isolation } from './isolation';
import { parseNetworkName, spaceNetworkNames } from './naming';
import type { ResultCache } from './result-cache';
import type { ClaimRequest, SpaceClaim, SpaceRegistry, StoreView } from './space-registry';

export interface SpaceNetworkDeps {
  host: PluginHost;
  config: CniConfig;
  registry: SpaceRegistry;
  isolation: Isolation;
  cmd: HostCommand;
  cache: ResultCache;
  /** Where the host's routes are read (tests point it at a fixture). */
  routesFile?: string;
}

const owner = (realm: string, space: string) => `${realm}/${space}`;

/** The network name a conflist file declares, or undefined when it is not a readable conflist. */
function networkNameIn(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const name = (JSON.parse(text) as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

export class SpaceNetworks {
  constructor(private readonly d: SpaceNetworkDeps) {}

  /** `<run-path>/<realm>/<space>/network.conflist` (the store's directory of the space when it has one). */
  copyPath(realm: string, space: string): string {
    const dir = this.d.host.state.location({ kind: 'Space', path: [realm, space] });
    return path.join(dir ?? path.join(this.d.host.paths.runtimeDir, 'cni', 'spaces', realm, space), 'network.conflist');
  }

  /** Where the space's conflist is (or will be): what its status says, else its spec, else `<confDir>/<realm>-<space>.conflist`. */
  conflistPath(realm: string, space: string, doc: SpaceDoc | undefined): string {
    return (
      doc?.status?.network?.conflistPath ??
      doc?.spec?.cniConfigPath ??
      path.join(this.d.config.confDir, spaceNetworkNames(realm, space).fileName)
    );
  }

  /** The conflist text the space's saved network calls for. */
  expected(realm: string, space: string, net: SpaceNetworkStatus): string {
    const names = spaceNetworkNames(realm, space);
    const cidr = Ipv4Cidr.parse(net.subnet ?? '');
    if (!cidr) throw new KukeonError('KUKEON_E_STATE', `space ${owner(realm, space)} has no valid subnet in its status`, { plugin: 'cni' });
    return buildConflist({
      network: names.network,
      bridge: net.bridge ?? names.bridge,
      subnet: cidr.toString(),
      gateway: net.gateway ?? cidr.host(1),
      ipamDataDir: this.d.config.ipamDataDir,
    });
  }

  /** Every stored space's claims, and which spaces exist. */
  private async stored(): Promise<StoreView> {
    const claims: SpaceClaim[] = [];
    const existing = new Set<string>();
    for (const realm of await this.d.host.state.list('Realm', [])) {
      for (const sp of await this.d.host.state.list('Space', [realm.metadata.name])) {
        const o = owner(realm.metadata.name, sp.metadata.name);
        existing.add(o);
        const net = sp.status?.network;
        if (net?.subnet || net?.conflistPath)
          claims.push({ owner: o, subnet: net.subnet, conflistPath: net.conflistPath, bridge: net.bridge });
      }
    }
    return { claims, existing };
  }

  /** Cells of the space whose network is attached (a subnet change would strand them). */
  private async attachedCells(realm: string, space: string): Promise<string[]> {
    const out: string[] = [];
    for (const stack of await this.d.host.state.list('Stack', [realm, space])) {
      for (const cell of await this.d.host.state.list('Cell', [realm, space, stack.metadata.name])) {
        if (cell.status?.network?.state === 'Attached' || cell.status?.network?.state === 'Broken')
          out.push(`${stack.metadata.name}/${cell.metadata.name}`);
      }
    }
    return out;
  }

  /** Writes `text` to `file` unless it already holds exactly that; true when it wrote. */
  private static writeIfDiffers(file: string, text: string): boolean {
    if (readFileIfExists(file) === text) return false;
    writeFileAtomicSync(file, text);
    return true;
  }

  /**
   * The claim a space's create makes, and the conflist file's current text. A file at the path that declares
   * another network is never replaced: refused here.
   */
  private async claimRequest(
    ref: Ref,
    doc: SpaceDoc,
    previous: string | undefined,
  ): Promise<{ req: ClaimRequest; current: string | undefined }> {
    const [realm, space] = ref.path;
    const names = spaceNetworkNames(realm, space);
    const conflistPath = doc.spec.cniConfigPath ?? path.join(this.d.config.confDir, names.fileName);
    const current = readFileIfExists(conflistPath);
    if (current !== undefined && networkNameIn(current) !== names.network) {
      const other = parseNetworkName(networkNameIn(current) ?? '');
      const whose = other
        ? `space ${owner(other.realm, other.space)} already uses it`
        : `it declares network ${JSON.stringify(networkNameIn(current) ?? '?')}`;
      throw new KukeonError(
        'KUKEON_E_CONFLICT',
        `${formatRef(ref)} would write ${conflistPath}, but ${whose}; kukeon does not replace it (set spec.cniConfigPath to another file)`,
        { field: 'spec.cniConfigPath', plugin: 'cni' },
      );
    }
    const req: ClaimRequest = {
      owner: owner(realm, space),
      conflistPath,
      requested: doc.spec.network?.subnet,
      previous,
      pool: this.d.config.subnetPool,
      bridge: names.bridge,
      store: () => this.stored(),
      routes: readIpv4Routes(this.d.routesFile),
    };
    return { req, current };
  }

  /**
   * Validation of a Space document: the conflict its create would meet (a conflist file, bridge or subnet that another
   * space or a host route holds), found before anything is written. Undefined when there is none.
   */
  async refusal(ref: Ref, doc: SpaceDoc): Promise<KukeonError | undefined> {
    try {
      const saved = (await this.d.host.state.get(ref)) as SpaceDoc | undefined;
      const { req } = await this.claimRequest(ref, doc, saved?.status?.network?.subnet);
      await this.d.registry.preview(req);
      return undefined;
    } catch (err) {
      if (err instanceof KukeonError && (err.code === 'KUKEON_E_CONFLICT' || err.code === 'KUKEON_E_INVALID')) return err;
      throw err;
    }
  }

  /** Create (and re-apply) of a space: claim, conflist and copy, isolation rules; sets status.network. */
  async ensure(ref: Ref, doc: SpaceDoc, status: SpaceStatus): Promise<Undo | undefined> {
    const [realm, space] = ref.path;
    const names = spaceNetworkNames(realm, space);
    const me = owner(realm, space);
    const before = status.network;
    const requested = doc.spec.network?.subnet;
    if (before?.subnet && requested && Ipv4Cidr.parse(requested)?.toString() !== before.subnet) {
      const cells = await this.attachedCells(realm, space);
      if (cells.length)
        throw new KukeonError(
          'KUKEON_E_STATE',
          `${formatRef(ref)}: the subnet cannot change from ${before.subnet} to ${requested} while cells are attached (${cells.join(', ')}); stop them first`,
          { field: 'spec.network.subnet', plugin: 'cni' },
        );
    }
    const { req, current } = await this.claimRequest(ref, doc, before?.subnet);
    const conflistPath = req.conflistPath;
    const subnet = await this.d.registry.claim(req);
    const cidr = Ipv4Cidr.parse(subnet)!;
    const net: SpaceNetworkStatus = { subnet, gateway: cidr.host(1), bridge: names.bridge, conflistPath };
    const text = this.expected(realm, space, net);
    const copy = this.copyPath(realm, space);
    const wroteConflist = current === undefined;
    const wroteCopy = readFileIfExists(copy) === undefined;
    SpaceNetworks.writeIfDiffers(conflistPath, text);
    SpaceNetworks.writeIfDiffers(copy, text);
    if (before?.conflistPath && before.conflistPath !== conflistPath) this.removeConflist(before.conflistPath, names.network);
    await this.d.isolation.apply({
      owner: me,
      bridge: names.bridge,
      chain: names.chain,
      subnet,
      allow: this.allowed(realm, doc),
      masquerade: this.d.config.masquerade,
    });
    status.network = net;
    if (before?.subnet) return undefined; // converging an existing space: a later failure leaves it as it was
    return async () => {
      if (wroteConflist) this.removeConflist(conflistPath, names.network);
      if (wroteCopy) fs.rmSync(copy, { force: true });
      await this.d.isolation.remove({ owner: me, bridge: names.bridge, chain: names.chain });
      await this.d.registry.release(me);
    };
  }

  /** The bridges of spec.network.allowFrom (`space` of the same realm, or `realm/space`). */
  private allowed(realm: string, doc: SpaceDoc): { bridge: string; from: string }[] {
    return (doc.spec.network?.allowFrom ?? []).map((entry) => {
      const [r, s] = entry.includes('/') ? entry.split('/') : [realm, entry];
      return { bridge: spaceNetworkNames(r, s).bridge, from: owner(r, s) };
    });
  }

  /** Files of the CNI directory that declare `network`. */
  filesDeclaring(network: string): string[] {
    return this.conflistsInConfDir()
      .filter((c) => c.network === network)
      .map((c) => c.file);
  }

  /** Every configuration file of the CNI directory with the network it declares. */
  conflistsInConfDir(): { file: string; network: string | undefined }[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.d.config.confDir);
    } catch {
      return [];
    }
    return names
      .filter((n) => /\.(conflist|conf|json)$/.test(n))
      .map((n) => path.join(this.d.config.confDir, n))
      .map((file) => ({ file, network: networkNameIn(readFileIfExists(file)) }));
  }

  /** Deletes a conflist only when it declares this space's network. */
  private removeConflist(file: string, network: string): void {
    if (networkNameIn(readFileIfExists(file)) === network) fs.rmSync(file, { force: true });
  }

  /** Refresh: a missing or drifted conflist or copy is rewritten, rules re-applied; a space without a network gets one. */
  async repair(ref: Ref, doc: SpaceDoc, status: SpaceStatus): Promise<SpaceStatus> {
    const next: SpaceStatus = { ...status };
    if (!next.network?.subnet) {
      await this.ensure(ref, doc, next);
      return next;
    }
    const [realm, space] = ref.path;
    const names = spaceNetworkNames(realm, space);
    const text = this.expected(realm, space, next.network);
    const file = next.network.conflistPath ?? this.conflistPath(realm, space, doc);
    SpaceNetworks.writeIfDiffers(file, text);
    SpaceNetworks.writeIfDiffers(this.copyPath(realm, space), text);
    await this.d.isolation.apply({
      owner: owner(realm, space),
      bridge: names.bridge,
      chain: names.chain,
      subnet: next.network.subnet,
      allow: this.allowed(realm, doc),
      masquerade: this.d.config.masquerade,
    });
    return next;
  }

  /** Delete (and purge) of a space: conflist and copy, bridge, IPAM state, cached results, rules, claim. */
  async remove(realm: string, space: string, doc: SpaceDoc | undefined): Promise<string[]> {
    const names = spaceNetworkNames(realm, space);
    const removed: string[] = [];
    // Where the conflist may be: the document's idea, the registry's (the document may be gone), or any file of
    // the CNI directory that declares this space's network. Only files declaring it are removed.
    const registered = (await this.d.registry.entries())[owner(realm, space)]?.conflistPath;
    const candidates = new Set([
      this.conflistPath(realm, space, doc),
      ...(registered ? [registered] : []),
      ...this.filesDeclaring(names.network),
    ]);
    for (const file of candidates) {
      if (networkNameIn(readFileIfExists(file)) !== names.network) continue;
      fs.rmSync(file, { force: true });
      removed.push(file);
    }
    const copy = this.copyPath(realm, space);
    if (fs.existsSync(copy)) {
      fs.rmSync(copy, { force: true });
      removed.push(copy);
    }
    const bridge = doc?.status?.network?.bridge ?? names.bridge;
    const del = await this.d.cmd.run('ip', ['link', 'del', bridge]);
    if (del.code === 0) removed.push(`bridge ${bridge}`);
    else if (!/Cannot find device|does not exist/i.test(del.stderr))
      throw new KukeonError('KUKEON_E_CNI', `cannot delete bridge ${bridge}: ${del.stderr.trim()}`, { plugin: 'cni' });
    const leases = path.join(this.d.config.ipamDataDir, names.network);
    if (fs.existsSync(leases)) {
      fs.rmSync(leases, { recursive: true, force: true });
      removed.push(leases);
    }
    for (const entry of this.d.cache.entriesOf(names.network)) {
      this.d.cache.remove(entry.networkName, entry.containerId, entry.ifName);
      removed.push(`cached result ${entry.containerId}`);
    }
    await this.d.isolation.remove({ owner: owner(realm, space), bridge, chain: `KUKEON-${bridge}` });
    await this.d.registry.release(owner(realm, space));
    return removed;
  }
}
