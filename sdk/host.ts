import type { Hooks, Parents } from './hooks';
import type { Doc, Kind, Ref } from './resources';
import type { ServiceMap, ServiceName } from './services';

/** Scoped reads of stored resources, for plugins that need to see beyond their own context. */
export interface StateReader {
  get<K extends Kind>(ref: Ref & { kind: K }): Promise<Doc<K> | undefined>;
  /** Children of `kind` directly under `parent` (`[]` lists realms). */
  list<K extends Kind>(kind: K, parent: readonly string[]): Promise<Doc<K>[]>;
  /** The saved documents of every parent of `ref`. */
  parents(ref: Ref): Promise<Parents>;
  /**
   * The directory where the store keeps `ref` (a container's: its cell's `containers/`), for plugins that put their
   * own files beside a resource's state; undefined when the store keeps no files (or there is no store).
   */
  location(ref: Ref): string | undefined;
}

export interface LockOptions {
  /** How long to wait for a holder before failing with KUKEON_E_BUSY. */
  timeoutMs?: number;
}

/** Named locks shared by every process on the host (files under `<run-path>/run/locks`). */
export interface Locks {
  /** Runs `fn` while holding `name`. Never hold a named lock across an image pull or a container start. */
  with<T>(name: string, fn: () => Promise<T>, options?: LockOptions): Promise<T>;
}

export interface ServiceRegistry {
  /** Registers a service of the calling plugin's slot (`runtime.images` from the runtime plugin, ...). */
  provide<N extends ServiceName>(name: N, service: ServiceMap[N]): void;
  get<N extends ServiceName>(name: N): ServiceMap[N] | undefined;
  /** Names of the registered services, sorted. */
  names(): ServiceName[];
}

export interface HostPaths {
  /** Root of kukeon's state (default `/opt/kukeon`). */
  runPath: string;
  /** `<run-path>/run`: locks and runtime files. */
  runtimeDir: string;
}

/** What `apply(host, config)` receives: the host's own instances, never a copy of kukeon. */
export interface PluginHost {
  readonly hooks: Hooks;
  readonly services: ServiceRegistry;
  readonly state: StateReader;
  readonly locks: Locks;
  readonly paths: HostPaths;
  /** A `debug` logger namespaced `kukeon:<plugin>`. */
  readonly log: (format: string, ...args: unknown[]) => void;
  readonly version: string;
  /**
   * True in kukeond's host, false in a `kuke` command's own (in-process). What must outlive the command (the
   * terminals of attachable containers) is only done by the daemon.
   */
  readonly daemon: boolean;
  /** Runs `fn` when the host closes (end of a CLI command, daemon shutdown): close connections here. */
  onClose(fn: () => void | Promise<void>): void;
}
