// Which space holds which subnet and conflist file, decided under one lock shared by every process on the host.
// The lifecycle saves a space's status only after its create taps return, so the store alone cannot keep two
// processes creating spaces at once from picking the same subnet: the claim is written here, inside the lock,
// before the lock is released. The store's statuses are merged in (they survive a lost registry), and entries
// of spaces that are no longer stored are dropped.

import { Ipv4Cidr, KukeonError, writeFileAtomicSync } from '../../sdk';
import type { Locks } from '../../sdk';
import { readFileIfExists } from './read-file';
import type { HostRoute } from './host-routes';

export interface SpaceClaim {
  /** `realm/space` */
  owner: string;
  subnet?: string;
  conflistPath?: string;
  bridge?: string;
}

export interface ClaimRequest {
  owner: string;
  conflistPath: string;
  /** spec.network.subnet */
  requested?: string;
  /** The subnet the space already holds (its saved status), kept when still free. */
  previous?: string;
  pool: string;
  /** The space's bridge: routes through it are the space's own. */
  bridge?: string;
  /**
   * The store's view, read inside the registry lock: a listing taken before it could miss a space another process
   * recorded and claimed meanwhile, and dropping that space's entry would hand its subnet out twice.
   */
  store: () => Promise<StoreView>;
  routes: HostRoute[];
}

export interface StoreView {
  /** Claims found in the store's statuses, the owner's own included or not. */
  claims: SpaceClaim[];
  /** Owners that exist in the store; registry entries of others are stale. Undefined: keep every entry. */
  existing?: ReadonlySet<string>;
}

interface RegistryFile {
  spaces: Record<string, { subnet?: string; conflistPath?: string; bridge?: string }>;
}

export const REGISTRY_LOCK = 'cni.spaces';
/** Claims are short, but many processes may queue for them (spaces created at once). */
const LOCK_WAIT = { timeoutMs: 60_000 };

export class SpaceRegistry {
  constructor(
    private readonly file: string,
    private readonly locks: Locks,
  ) {}

  private read(): RegistryFile {
    const text = readFileIfExists(this.file);
    if (!text) return { spaces: {} };
    try {
      const parsed = JSON.parse(text) as RegistryFile;
      return parsed && typeof parsed.spaces === 'object' && parsed.spaces ? parsed : { spaces: {} };
    } catch {
      return { spaces: {} }; // unreadable: the store's statuses still hold what matters
    }
  }

  private write(reg: RegistryFile): void {
    writeFileAtomicSync(this.file, `${JSON.stringify(reg, null, 2)}\n`);
  }

  /** Every entry, by owner. */
  async entries(): Promise<Record<string, { subnet?: string; conflistPath?: string; bridge?: string }>> {
    return this.locks.with(REGISTRY_LOCK, async () => this.read().spaces, LOCK_WAIT);
  }

  /** Checks the conflist file and picks (or keeps) the subnet, then records both for the owner. Returns the subnet. */
  async claim(req: ClaimRequest): Promise<string> {
    return this.locks.with(
      REGISTRY_LOCK,
      async () => {
        const reg = this.read();
        const subnet = this.decide(reg, req, await req.store());
        reg.spaces[req.owner] = { subnet, conflistPath: req.conflistPath, ...(req.bridge ? { bridge: req.bridge } : {}) };
        this.write(reg);
        return subnet;
      },
      LOCK_WAIT,
    );
  }

  /**
   * What claim() would decide, without recording it: validation refuses a conflicting space before anything is
   * written. Two processes may still race past it; claim() decides again under the lock.
   */
  async preview(req: ClaimRequest): Promise<string> {
    return this.locks.with(REGISTRY_LOCK, async () => this.decide(this.read(), req, await req.store()), LOCK_WAIT);
  }

  /** The owner's subnet, or the conflict that refuses it; drops entries of spaces no longer stored from `reg`. */
  private decide(reg: RegistryFile, req: ClaimRequest, store: StoreView): string {
    const { existing } = store;
    if (existing) for (const owner of Object.keys(reg.spaces)) if (owner !== req.owner && !existing.has(owner)) delete reg.spaces[owner];
    const others: SpaceClaim[] = [
      ...Object.entries(reg.spaces)
        .filter(([o]) => o !== req.owner)
        .map(([owner, c]) => ({ owner, ...c })),
      ...store.claims.filter((c) => c.owner !== req.owner),
    ];
    const fileHolder = others.find((c) => c.conflistPath === req.conflistPath);
    if (fileHolder) {
      throw new KukeonError(
        'KUKEON_E_CONFLICT',
        `space ${req.owner} would write ${req.conflistPath}, which space ${fileHolder.owner} already uses (set spec.cniConfigPath to another file)`,
        { field: 'spec.cniConfigPath' },
      );
    }
    const bridgeHolder = req.bridge ? others.find((c) => c.bridge === req.bridge) : undefined;
    if (bridgeHolder) {
      // 24 bits of hash after the same 5 letters: not expected to happen, but never two spaces on one bridge
      throw new KukeonError(
        'KUKEON_E_CONFLICT',
        `space ${req.owner} would use bridge ${req.bridge}, which space ${bridgeHolder.owner} already uses (rename one of the spaces)`,
      );
    }
    const held = others.flatMap((c) => {
      const cidr = c.subnet ? Ipv4Cidr.parse(c.subnet) : undefined;
      return cidr ? [{ owner: c.owner, cidr }] : [];
    });
    const foreignRoutes = req.routes.filter((r) => r.iface !== req.bridge);
    return this.choose(req, held, foreignRoutes);
  }

  private choose(req: ClaimRequest, held: { owner: string; cidr: Ipv4Cidr }[], routes: HostRoute[]): string {
    if (req.requested) {
      const want = Ipv4Cidr.parse(req.requested);
      if (!want)
        throw new KukeonError('KUKEON_E_INVALID', `spec.network.subnet ${req.requested} is not an IPv4 CIDR`, {
          field: 'spec.network.subnet',
        });
      const holder = held.find((h) => h.cidr.overlaps(want));
      if (holder)
        throw new KukeonError('KUKEON_E_CONFLICT', `subnet ${want} overlaps ${holder.cidr} of space ${holder.owner}`, {
          field: 'spec.network.subnet',
        });
      const route = routes.find((r) => r.cidr.overlaps(want));
      if (route)
        throw new KukeonError('KUKEON_E_CONFLICT', `subnet ${want} overlaps the host's route ${route.cidr} (dev ${route.iface})`, {
          field: 'spec.network.subnet',
        });
      return want.toString();
    }
    const previous = req.previous ? Ipv4Cidr.parse(req.previous) : undefined;
    if (previous && !held.some((h) => h.cidr.overlaps(previous))) return previous.toString();
    const pool = Ipv4Cidr.parse(req.pool);
    if (!pool)
      throw new KukeonError('KUKEON_E_CONFIG', `plugins.cni.subnetPool ${req.pool} is not an IPv4 CIDR`, {
        plugin: 'cni',
        field: 'plugins.cni.subnetPool',
      });
    for (const candidate of pool.subnets(Math.max(24, pool.prefix))) {
      if (held.some((h) => h.cidr.overlaps(candidate))) continue;
      if (routes.some((r) => r.cidr.overlaps(candidate))) continue;
      return candidate.toString();
    }
    throw new KukeonError(
      'KUKEON_E_CONFLICT',
      `no free /24 left in the subnet pool ${pool} (${held.length} held by spaces; host routes excluded); set spec.network.subnet or widen plugins.cni.subnetPool`,
    );
  }

  /** Forgets the owner's claims (space deleted or purged). */
  async release(owner: string): Promise<void> {
    await this.locks.with(
      REGISTRY_LOCK,
      async () => {
        const reg = this.read();
        if (!(owner in reg.spaces)) return;
        delete reg.spaces[owner];
        this.write(reg);
      },
      LOCK_WAIT,
    );
  }
}
