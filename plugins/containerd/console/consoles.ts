// `runtime.console` in kukeond: the terminals of attachable containers, one Console per running task. A task is
// given fresh FIFOs before it is created; a restarted daemon re-opens those of the tasks still running; a deleted
// task's go with it.

import { KukeonError, formatRef } from '../../../sdk';
import type { AttachResult, ConsoleEvent, ConsoleService, PluginHost, SessionIO, TerminalSize } from '../../../sdk';
import type { CellRuntime } from '../cell-runtime';
import { isNotFound } from '../grpc/status-codes';
import { containerdId } from '../naming';
import { Console } from './console';
import { fifoPaths, listFifoDirs, makeFifos, readFifoMeta, removeFifos } from './fifos';
import type { ConsoleMeta, FifoPaths } from './fifos';

const keyOf = (ns: string, id: string) => `${ns}/${id}`;

export class Consoles implements ConsoleService {
  private readonly open = new Map<string, Console>();
  private readonly observers = new Set<(event: ConsoleEvent) => void>();

  observe(fn: (event: ConsoleEvent) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  constructor(
    private readonly host: PluginHost,
    private readonly rt: CellRuntime,
  ) {
    host.onClose(() => {
      for (const c of this.open.values()) c.close();
      this.open.clear();
    });
  }

  /** Before a task is created: its FIFOs, made afresh and opened (a previous task's console is let go first). */
  prepare(meta: ConsoleMeta): FifoPaths {
    this.drop(meta.namespace, meta.containerdId);
    const paths = makeFifos(this.host.paths.runtimeDir, meta);
    this.openConsole(paths, meta, undefined);
    return paths;
  }

  /** The task started as `pid`: its input is held open beyond this daemon's life. */
  started(ns: string, id: string, pid: number): void {
    const c = this.open.get(keyOf(ns, id));
    c?.hold(pid);
    if (c) c.pid = pid;
  }

  /** The task was deleted (with its exit status when known): attached clients end, the FIFOs go. */
  async release(ns: string, id: string, exitCode?: number): Promise<void> {
    const c = this.open.get(keyOf(ns, id));
    if (c) await c.end(exitCode);
    removeFifos(this.host.paths.runtimeDir, ns, id);
  }

  /** A running attachable task this daemon has no console for (it restarted): its FIFOs re-opened. */
  async ensureOpen(meta: ConsoleMeta, pid: number): Promise<Console | undefined> {
    const open = this.open.get(keyOf(meta.namespace, meta.containerdId));
    if (open) return open;
    const paths = fifoPaths(this.host.paths.runtimeDir, meta.namespace, meta.containerdId);
    try {
      return this.openConsole(paths, meta, pid);
    } catch (err) {
      this.host.log('%s: its FIFOs cannot be opened: %s', meta.containerdId, (err as Error).message);
      return undefined;
    }
  }

  /** kukeond's start: the consoles of the attachable tasks still running; the FIFOs of tasks that are gone, removed. */
  async recover(): Promise<void> {
    for (const meta of listFifoDirs(this.host.paths.runtimeDir)) {
      const t = await this.rt.task(meta.namespace, meta.containerdId).catch(() => 'unknown' as const);
      if (t === 'unknown') continue;
      if (!t) removeFifos(this.host.paths.runtimeDir, meta.namespace, meta.containerdId);
      else if (t.status === 'RUNNING') {
        const c = await this.ensureOpen(meta, t.pid);
        // it may have exited between the look and the open: its output then never ends on its own
        const again = await this.rt.task(meta.namespace, meta.containerdId).catch(() => undefined);
        if (c && again?.status !== 'RUNNING') void c.end(again?.exit_status);
      }
    }
  }

  async attach(
    cellPath: readonly string[],
    container: string,
    io: SessionIO,
    opts: { stdin?: boolean; size?: TerminalSize },
    signal?: AbortSignal,
  ): Promise<AttachResult> {
    const ref = { kind: 'Container' as const, path: [...cellPath, container] };
    const doc = await this.host.state.get(ref);
    if (!doc) throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} not found`);
    const ns = await this.rt.namespaceOfRealm(cellPath[0]);
    const id = doc.status?.containerdId ?? containerdId(cellPath, container);
    const t = await this.rt.task(ns, id);
    if (t?.status !== 'RUNNING')
      throw new KukeonError('KUKEON_E_STATE', `${formatRef(ref)} is not running; start the cell first (kuke start)`);
    // opened here first (a restarted daemon not done re-opening): as its task was made, a terminal or pipes
    const meta: ConsoleMeta = readFifoMeta(this.host.paths.runtimeDir, ns, id) ?? {
      namespace: ns,
      containerdId: id,
      cellPath: [...cellPath],
      container,
      logPath: this.rt.logPath(cellPath, container),
    };
    const c = await this.ensureOpen(meta, t.pid);
    if (!c)
      throw new KukeonError('KUKEON_E_STATE', `${formatRef(ref)} runs without a terminal (it started before it was attachable)`, {
        hint: 'restart the cell (kuke restart) to give it one',
      });
    return c.attach(io, opts, signal);
  }

  private openConsole(paths: FifoPaths, meta: ConsoleMeta, pid: number | undefined): Console {
    const key = keyOf(meta.namespace, meta.containerdId);
    const c: Console = new Console(
      paths,
      meta,
      {
        log: this.host.log,
        resize: (size) => this.rt.client.tasks.resizePty(meta.namespace, meta.containerdId, '', { width: size.cols, height: size.rows }),
        exitCode: () => this.exitCode(meta, c.pid),
        closeStdin: () => this.rt.client.tasks.closeStdin(meta.namespace, meta.containerdId, ''),
        observe: (e) => {
          for (const fn of this.observers) {
            try {
              fn({ cellPath: meta.cellPath, container: meta.container, ...e });
            } catch (err) {
              this.host.log('%s: observer: %s', meta.containerdId, (err as Error).message);
            }
          }
        },
      },
      () => {
        if (this.open.get(key) === c) this.open.delete(key);
      },
    );
    c.pid = pid;
    this.open.set(key, c);
    return c;
  }

  /** The exit status of the task `pid` (waited for when its output ended just before it exited). */
  private async exitCode(meta: ConsoleMeta, pid: number | undefined): Promise<number | undefined> {
    try {
      const t = await this.rt.task(meta.namespace, meta.containerdId);
      if (t && (pid === undefined || t.pid === pid)) {
        if (t.status === 'STOPPED') return t.exit_status;
        return (await this.rt.client.tasks.wait(meta.namespace, meta.containerdId, '', { timeoutMs: 10_000 })).exit_status;
      }
    } catch (err) {
      if (!isNotFound(err)) this.host.log('%s: exit status: %s', meta.containerdId, (err as Error).message);
    }
    // deleted (or replaced by a restart) already: what the supervisor recorded
    const doc = await this.host.state.get({ kind: 'Container', path: [...meta.cellPath, meta.container] });
    return doc?.status?.exitCode;
  }

  /** Lets go of a console without ending its clients' sessions (a new task replaces the old one). */
  private drop(ns: string, id: string): void {
    const c = this.open.get(keyOf(ns, id));
    if (!c) return;
    void c.end();
  }
}
