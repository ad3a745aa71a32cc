// What every kuke command shares: the global options, the routing decision, one host per command, and the
// mapping of errors to exit codes (0 success, 1 failure, 2 usage) with the message on stderr.

import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import createDebug from 'debug';
import { KukeonError, isKukeonError } from '../../sdk';
import type { Host } from '../host';
import { DAEMON_CLIENT_AVAILABLE, routeCommand } from './routing';

export const DEFAULT_SOCKET = '/run/kukeon/kukeond.sock';

export abstract class BaseCommand extends Command {
  runPath = Option.String('--run-path', { description: 'State root (default /opt/kukeon; env KUKEON_RUN_PATH). Implies in-process.' });
  socket = Option.String('--socket', { description: `kukeond socket (default ${DEFAULT_SOCKET})` });
  config = Option.String('--config', { description: 'Configuration file (default /etc/kukeon/kukeon.yaml; env KUKEON_CONFIG)' });
  containerdSocket = Option.String('--containerd-socket', { description: 'containerd socket (env KUKEON_CONTAINERD_SOCKET)' });
  verbose = Option.Counter('-v,--verbose', { description: 'Trace hooks and taps with timings (same as DEBUG=kukeon:*)' });

  /** `--no-daemon`, on the commands that declare it. */
  protected noDaemonFlag(): boolean {
    return false;
  }

  protected abstract run(): Promise<number | void>;

  async execute(): Promise<number> {
    if (this.verbose) createDebug.enable(['kukeon:*', process.env.DEBUG].filter(Boolean).join(','));
    try {
      const route = routeCommand({
        noDaemon: this.noDaemonFlag(),
        env: process.env.KUKEON_NO_DAEMON,
        runPathExplicit: this.runPath !== undefined,
        daemonAvailable: DAEMON_CLIENT_AVAILABLE,
      });
      createDebug('kukeon:cli')('route %s (%s)', route.mode, route.reason);
      return (await this.run()) ?? 0;
    } catch (err) {
      return this.reportError(err);
    } finally {
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
    this.context.stderr.write(`Error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }

  private hostPromise: Promise<Host> | undefined;

  /** The in-process host, made once per command from the global options. */
  protected host(): Promise<Host> {
    // Loaded on first use, so commands that need no host (version, schema, help) start faster.
    const { createHost } = require('../host') as typeof import('../host');
    this.hostPromise ??= createHost({
      runPath: this.runPath,
      configPath: this.config,
      // `--pull` is declared by apply, create and run; it reaches the containerd plugin's `pull` setting (x-flag)
      flags: { '--containerd-socket': this.containerdSocket, '--socket': this.socket, '--pull': (this as { pull?: string }).pull },
    });
    return this.hostPromise;
  }

  /** The text of `-f FILE`, or of stdin for `-f -`. */
  protected async readInput(file: string): Promise<string> {
    if (file !== '-') {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new KukeonError('KUKEON_E_USAGE', `cannot read ${file}: ${(err as Error).message}`);
      }
    }
    const chunks: Buffer[] = [];
    for await (const chunk of this.context.stdin) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }

  protected out(text: string): void {
    this.context.stdout.write(text);
  }

  protected err(text: string): void {
    this.context.stderr.write(text);
  }
}
