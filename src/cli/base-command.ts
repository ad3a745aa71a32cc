// What every kuke command shares: the global options, the routing decision (in-process controller or the
// daemon's socket, behind one ControllerApi), Ctrl-C as cancellation, and the mapping of errors to exit codes
// (0 success, 1 failure, 2 usage) with the message on stderr.

import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import createDebug from 'debug';
import { KukeonError, isKukeonError } from '../../sdk';
import type { CallOptions, ControllerApi, PullPolicy, RegistryCredentialSpec } from '../../sdk';
import type { Host } from '../host';
import { DEFAULT_SOCKET } from '../../plugins/api-socket/wire';
import { MAX_INPUT_BYTES, formatBytes } from '../host/validation/input-limits';
import { routeCommand } from './routing';
import type { Route } from './routing';

const PULL_POLICIES: readonly PullPolicy[] = ['missing', 'never', 'always'];

export abstract class BaseCommand extends Command {
  runPath = Option.String('--run-path', { description: 'State root (default /opt/kukeon; env KUKEON_RUN_PATH). Implies in-process.' });
  socket = Option.String('--socket', { description: `kukeond socket (default ${DEFAULT_SOCKET}; env KUKEON_SOCKET)` });
  config = Option.String('--config', { description: 'Configuration file (default /etc/kukeon/kukeon.yaml; env KUKEON_CONFIG)' });
  containerdSocket = Option.String('--containerd-socket', { description: 'containerd socket (env KUKEON_CONTAINERD_SOCKET)' });
  verbose = Option.Counter('-v,--verbose', { description: 'Trace hooks and taps with timings (same as DEBUG=kukeon:*)' });

  /** Commands that never need the daemon (version, login, schema, doctor, plugins ls, ...) run in-process. */
  protected static readonly inProcessOnly: boolean = false;

  /** `--no-daemon`, on the commands that declare it. */
  protected noDaemonFlag(): boolean {
    return false;
  }

  protected abstract run(): Promise<number | void>;

  /** Aborted on Ctrl-C: the operation is cancelled (in the daemon too) and its undo runs. */
  private readonly interrupt = new AbortController();

  async execute(): Promise<number> {
    if (this.verbose) createDebug.enable(['kukeon:*', process.env.DEBUG].filter(Boolean).join(','));
    const onSigint = () => this.interrupt.abort(new KukeonError('KUKEON_E_CANCELLED', 'interrupted'));
    process.once('SIGINT', onSigint);
    try {
      return (await this.run()) ?? 0;
    } catch (err) {
      return this.reportError(this.interrupt.signal.aborted ? new KukeonError('KUKEON_E_CANCELLED', 'interrupted') : err);
    } finally {
      process.removeListener('SIGINT', onSigint);
      this.daemonClient?.close();
      if (this.hostPromise)
        await this.hostPromise.then(
          (h) => h.close(),
          () => undefined,
        );
    }
  }

  private reportError(err: unknown): number {
    if (isKukeonError(err)) {
      this.context.stderr.write(`Error: ${err.describe()}\n`);
      return err.exitCode;
    }
    // A bug, not the user's input: one line (the stack only with -v), never an engine's trace on a user's screen.
    const e = err as Error | undefined;
    const what = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(err);
    this.context.stderr.write(`Error: internal error (${what}); run with -v for details and report it [KUKEON_E_INTERNAL]\n`);
    if (this.verbose && e instanceof Error) this.context.stderr.write(`${e.stack}\n`);
    return 1;
  }

  /** Where this command runs (the seed's rules, decided in routing.ts). */
  protected route(): Route {
    if ((this.constructor as typeof BaseCommand).inProcessOnly) return { mode: 'in-process', reason: 'never needs the daemon' };
    return routeCommand({ noDaemon: this.noDaemonFlag(), env: process.env.KUKEON_NO_DAEMON, runPathExplicit: this.runPath !== undefined });
  }

  /** `--socket`, else KUKEON_SOCKET, else the default. */
  protected socketPath(): string {
    return this.socket ?? (process.env.KUKEON_SOCKET || DEFAULT_SOCKET);
  }

  private daemonClient: (ControllerApi & { close(): void }) | undefined;

  /** The controller: in this process, or kukeond's through its socket (no silent fallback from one to the other). */
  protected async api(): Promise<ControllerApi> {
    const route = this.route();
    createDebug('kukeon:cli')('route %s (%s)', route.mode, route.reason);
    if (route.mode === 'in-process') return (await this.host()).api;
    // The daemon's client loads grpc-js and the wire module only: no plugins, no ajv, no protos.
    // One client (one connection) per command: a watch and a get of `get -w` share it, in order.
    if (!this.daemonClient) {
      const { SocketClient } = require('../../plugins/api-socket/client') as typeof import('../../plugins/api-socket/client');
      this.daemonClient = new SocketClient(this.socketPath());
    }
    return this.daemonClient;
  }

  /** Per-call options: Ctrl-C cancels. */
  protected call(extra: Omit<CallOptions, 'signal'> = {}): CallOptions {
    return { ...extra, signal: this.interrupt.signal };
  }

  /** `--pull`, else KUKEON_PULL; checked here so both transports refuse a bad value alike. */
  protected pullPolicy(flag: string | undefined): PullPolicy | undefined {
    const value = flag ?? (process.env.KUKEON_PULL || undefined);
    if (value !== undefined && !PULL_POLICIES.includes(value as PullPolicy)) {
      throw new KukeonError('KUKEON_E_USAGE', `--pull must be one of ${PULL_POLICIES.join(', ')} (got "${value}")`);
    }
    return value as PullPolicy | undefined;
  }

  /** The caller's registry credentials (its `kuke login` file), sent with a request as docker's client does. */
  protected credentials(): RegistryCredentialSpec[] | undefined {
    const { readAuthFile } = require('../../sdk/registry-auth') as typeof import('../../sdk/registry-auth');
    const found = readAuthFile();
    return found.length ? found : undefined;
  }

  private hostPromise: Promise<Host> | undefined;

  /** The in-process host, made once per command from the global options. */
  protected host(): Promise<Host> {
    // Loaded on first use, so commands that need no host (version, schema, help) start faster.
    const { createHost } = require('../host') as typeof import('../host');
    this.hostPromise ??= createHost({
      runPath: this.runPath,
      configPath: this.config,
      flags: { '--containerd-socket': this.containerdSocket, '--socket': this.socket },
    });
    return this.hostPromise;
  }

  /** The text of `-f FILE`, or of stdin for `-f -`; refused past MAX_INPUT_BYTES before more is read. */
  protected async readInput(file: string): Promise<string> {
    const tooLarge = () =>
      new KukeonError(
        'KUKEON_E_YAML',
        `${file === '-' ? 'stdin' : file}: the input is more than the ${formatBytes(MAX_INPUT_BYTES)} kukeon reads at once; split it into several files`,
      );
    const chunks: Buffer[] = [];
    let total = 0;
    if (file !== '-') {
      let fd: number | undefined;
      try {
        fd = fs.openSync(file, 'r');
        const buf = Buffer.alloc(1024 * 1024);
        for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) {
          total += n;
          if (total > MAX_INPUT_BYTES) throw tooLarge();
          chunks.push(Buffer.from(buf.subarray(0, n)));
        }
      } catch (err) {
        if (isKukeonError(err)) throw err;
        throw new KukeonError('KUKEON_E_USAGE', `cannot read ${file}: ${(err as Error).message}`);
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    } else {
      for await (const chunk of this.context.stdin) {
        total += chunk.length;
        if (total > MAX_INPUT_BYTES) throw tooLarge();
        chunks.push(Buffer.from(chunk));
      }
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  protected out(text: string): void {
    this.context.stdout.write(text);
  }

  protected err(text: string): void {
    this.context.stderr.write(text);
  }
}
