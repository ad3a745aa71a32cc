// biome-ignore-all lint/suspicious/noExplicitAny: Plugin<any> is "a plugin of any config type" (its config is contravariant in apply)
// Loads plugins as containerd's registry does: metadata checked at registration, at most one plugin per slot,
// dependency-sorted by the slots they require, each config validated, each applied with its status recorded
// (ok, skip with reason, error). A failing add-on never takes the host down; a missing store does.

import createDebug from 'debug';
import { KukeonError, SLOTS, isKukeonError, isPluginSkip } from '../../sdk';
import type { Plugin, PluginHost, PluginStatus, Slot } from '../../sdk';
import type { TapOwnership } from './hooks';
import { resolvePluginConfig } from './plugin-config';
import type { ConfigSources } from './plugin-config';

const log = createDebug('kukeon:plugins');

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface PluginEntry {
  plugin: Plugin<any>;
  /** The plugin's table from the configuration file, if any. */
  table?: unknown;
  /** The module specifier a third-party plugin was loaded from (shown in its status); absent for built-ins. */
  source?: string;
  /** A built-in, whose config schema the test suite checks against JSON Schema's meta-schema, so loading need not. */
  builtin?: boolean;
}

/** A plugin module named in the configuration file that could not be loaded: it gets an error status, named by its specifier. */
export interface FailedPluginEntry {
  plugin?: undefined;
  source: string;
  error: string;
}

/** Checks what a plugin declares before anything of it runs (fastify checks plugin metadata at registration). */
export function checkPluginMeta(plugin: Plugin<unknown>): void {
  const name = (plugin as { name?: unknown })?.name;
  const fail = (why: string) => {
    throw new KukeonError('KUKEON_E_PLUGIN_META', `plugin ${typeof name === 'string' ? name : '?'}: ${why}`, {
      plugin: typeof name === 'string' ? name : undefined,
    });
  };
  if (typeof plugin !== 'object' || plugin === null) fail('a plugin must be an object');
  if (typeof name !== 'string' || !NAME.test(name)) fail('name must be lowercase letters, digits and -');
  if (typeof plugin.version !== 'string' || plugin.version === '') fail('version must be a non-empty string');
  if (plugin.slot !== undefined && !SLOTS.includes(plugin.slot)) fail(`slot must be one of ${SLOTS.join(', ')}`);
  if (plugin.requires !== undefined) {
    if (!Array.isArray(plugin.requires)) fail('requires must be a list of slots');
    for (const s of plugin.requires) if (!SLOTS.includes(s)) fail(`requires names unknown slot ${String(s)}`);
  }
  if (typeof plugin.apply !== 'function') fail('apply must be a function');
}

export class PluginLoader implements TapOwnership {
  private applying: Plugin<unknown> | undefined;
  private readonly active = new Set<string>(['kukeon']);
  private readonly modules = new Map<Plugin<unknown>, string>();
  readonly statuses: PluginStatus[] = [];

  constructor(
    private readonly sources: ConfigSources,
    private readonly hostFor: (plugin: Plugin<unknown>) => PluginHost,
    private readonly dropServices: (owner: string) => void,
  ) {}

  current(): string {
    return this.applying?.name ?? 'kukeon';
  }

  currentPlugin(): { name: string; slot?: Slot } {
    return this.applying ?? { name: 'kukeon' };
  }

  isActive(owner: string): boolean {
    return this.active.has(owner);
  }

  /** Loads every entry; throws only for conflicts in the set itself (two plugins in one slot, duplicate names). */
  async load(entries: (PluginEntry | FailedPluginEntry)[]): Promise<PluginStatus[]> {
    const valid: PluginEntry[] = [];
    for (const entry of entries) {
      if (!entry.plugin) {
        this.statuses.push({ name: entry.source, version: '?', state: 'error', reason: entry.error, source: entry.source });
        log('plugin module %s: error (%s)', entry.source, entry.error);
        continue;
      }
      if (entry.source !== undefined) this.modules.set(entry.plugin, entry.source);
      try {
        checkPluginMeta(entry.plugin);
        valid.push(entry);
      } catch (err) {
        this.record(entry.plugin, 'error', (err as Error).message);
      }
    }
    const byName = new Map<string, PluginEntry>();
    const bySlot = new Map<Slot, PluginEntry>();
    for (const entry of valid) {
      const { name, slot } = entry.plugin;
      if (byName.has(name)) throw new KukeonError('KUKEON_E_PLUGIN_META', `plugin ${name} is listed twice`, { plugin: name });
      byName.set(name, entry);
      if (!slot) continue;
      const other = bySlot.get(slot);
      if (other) {
        throw new KukeonError(
          'KUKEON_E_SLOT_CONFLICT',
          `plugins ${other.plugin.name} and ${name} both fill slot ${slot}; configure only one`,
          {
            plugin: name,
          },
        );
      }
      bySlot.set(slot, entry);
    }
    for (const entry of this.order(valid, bySlot)) await this.applyOne(entry, bySlot);
    return this.statuses;
  }

  /** Topological order over `requires` (by slot), stable in input order otherwise; a cycle is an error status. */
  private order(entries: PluginEntry[], bySlot: Map<Slot, PluginEntry>): PluginEntry[] {
    const out: PluginEntry[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (entry: PluginEntry, chain: string[]): boolean => {
      const name = entry.plugin.name;
      if (state.get(name) === 'done') return true;
      if (state.get(name) === 'visiting') {
        this.record(
          entry.plugin,
          'error',
          new KukeonError('KUKEON_E_PLUGIN_CYCLE', `plugin cycle: ${[...chain, name].join(' -> ')}`).message,
        );
        return false;
      }
      state.set(name, 'visiting');
      let ok = true;
      for (const slot of entry.plugin.requires ?? []) {
        const dep = bySlot.get(slot);
        if (dep && dep !== entry) ok = visit(dep, [...chain, name]) && ok;
      }
      state.set(name, 'done');
      if (ok) out.push(entry);
      else if (!this.statuses.some((s) => s.name === name)) this.record(entry.plugin, 'error', 'part of a plugin cycle');
      return ok;
    };
    for (const entry of entries) visit(entry, []);
    return out;
  }

  private async applyOne(entry: PluginEntry, bySlot: Map<Slot, PluginEntry>): Promise<void> {
    const plugin = entry.plugin as Plugin<unknown>;
    for (const slot of plugin.requires ?? []) {
      const dep = bySlot.get(slot);
      if (!dep) {
        const e = new KukeonError('KUKEON_E_PLUGIN_REQUIRES', `plugin ${plugin.name} requires slot ${slot}, which no loaded plugin fills`);
        return this.record(plugin, 'error', e.message);
      }
      const depStatus = this.statuses.find((s) => s.name === dep.plugin.name);
      if (depStatus?.state !== 'ok')
        return this.record(plugin, 'skip', `requires slot ${slot}, whose plugin ${dep.plugin.name} is ${depStatus?.state ?? 'not loaded'}`);
    }
    let config: Record<string, unknown>;
    try {
      config = resolvePluginConfig(plugin, entry.table, this.sources, { checkSchema: !entry.builtin });
    } catch (err) {
      return this.record(plugin, 'error', (err as Error).message);
    }
    const started = process.hrtime.bigint();
    this.applying = plugin;
    this.active.add(plugin.name);
    try {
      await plugin.apply(this.hostFor(plugin), config);
      this.record(plugin, 'ok', undefined, started);
    } catch (err) {
      this.active.delete(plugin.name);
      this.dropServices(plugin.name);
      // By brand, not instanceof: a plugin that bundles its own copy of kukeon/sdk throws that copy's PluginSkip.
      if (isPluginSkip(err)) this.record(plugin, 'skip', err.reason, started);
      else this.record(plugin, 'error', isKukeonError(err) ? err.describe() : (err as Error).message, started);
    } finally {
      this.applying = undefined;
    }
  }

  private record(plugin: Plugin<unknown>, state: PluginStatus['state'], reason?: string, started?: bigint): void {
    const applyMs = started === undefined ? undefined : Number(process.hrtime.bigint() - started) / 1e6;
    const name = typeof plugin?.name === 'string' ? plugin.name : '?';
    log('plugin %s: %s%s', name, state, reason ? ` (${reason})` : '');
    this.statuses.push({
      name,
      version: typeof plugin?.version === 'string' ? plugin.version : '?',
      slot: plugin?.slot,
      state,
      reason,
      applyMs,
      ...(this.modules.has(plugin) ? { source: this.modules.get(plugin) } : {}),
    });
  }
}
