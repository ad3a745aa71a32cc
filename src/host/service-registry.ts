import { KukeonError } from '../../sdk';
import type { ServiceMap, ServiceName, ServiceRegistry, Slot } from '../../sdk';

/** Services by name; each belongs to the plugin that provided it, and only a plugin's own slot may be provided. */
export class HostServiceRegistry implements ServiceRegistry {
  private readonly services = new Map<ServiceName, { owner: string; service: unknown }>();

  constructor(private readonly caller: () => { name: string; slot?: Slot }) {}

  provide<N extends ServiceName>(name: N, service: ServiceMap[N]): void {
    const { name: owner, slot } = this.caller();
    if (!slot || (name !== slot && !name.startsWith(`${slot}.`))) {
      throw new KukeonError('KUKEON_E_SERVICE', `plugin ${owner} (slot ${slot ?? 'none'}) cannot provide service ${name}`, {
        plugin: owner,
      });
    }
    const existing = this.services.get(name);
    if (existing) {
      throw new KukeonError('KUKEON_E_SERVICE', `service ${name} is already provided by ${existing.owner}`, { plugin: owner });
    }
    this.services.set(name, { owner, service });
  }

  get<N extends ServiceName>(name: N): ServiceMap[N] | undefined {
    return this.services.get(name)?.service as ServiceMap[N] | undefined;
  }

  names(): ServiceName[] {
    return [...this.services.keys()].sort();
  }

  /** Drops what a plugin provided before it failed, so nothing calls into a half-applied plugin. */
  dropOwner(owner: string): void {
    for (const [name, entry] of this.services) if (entry.owner === owner) this.services.delete(name);
  }
}
