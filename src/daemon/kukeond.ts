// kukeond: builds the host once and serves its ControllerApi through the `api` plugin (api-socket by default)
// until SIGTERM or SIGINT; then it stops accepting, lets in-flight calls finish (cancelling what is left), closes
// the host and exits 0. Containers are never stopped when the daemon exits or dies: they belong to containerd.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import createDebug from 'debug';
import { claimSocket, pidFileOf } from '../../sdk';
import { DEFAULT_SOCKET } from '../../plugins/api-socket/wire';
import type { StartUpPass } from '../host/supervision/start-up-pass';
import { KukeonError, isKukeonError, writeFileAtomicSync } from '../../sdk';

const USAGE = `Usage: kukeond [--socket PATH] [--run-path PATH] [--config FILE] [--containerd-socket PATH]
               [--cri-socket PATH] [--reconcile-interval SECONDS] [-v]

Serves kukeon's controller on a unix socket (default /run/kukeon/kukeond.sock; env KUKEON_SOCKET) for kuke.
  --socket PATH             the socket; its pid file kukeond.pid goes beside it
  --run-path PATH           state root (default /opt/kukeon; env KUKEON_RUN_PATH)
  --config FILE             configuration (default /etc/kukeon/kukeon.yaml; env KUKEON_CONFIG)
  --containerd-socket PATH  containerd's socket (env KUKEON_CONTAINERD_SOCKET)
  --cri-socket PATH         the Kubernetes CRI socket, when the configuration lists api-cri (default
                            /run/kukeon/cri.sock; env KUKEON_CRI_SOCKET)
  --reconcile-interval S    how often the supervisor compares every cell with its tasks besides following exits
                            (default 30; 0 disables; env KUKEON_RECONCILE_INTERVAL)
  -v, --verbose             trace requests, hooks and taps on stderr (DEBUG=kukeon:*)
`;

export async function main(argv: string[], stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        socket: { type: 'string' },
        'run-path': { type: 'string' },
        config: { type: 'string' },
        'containerd-socket': { type: 'string' },
        'cri-socket': { type: 'string' },
        'reconcile-interval': { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (err) {
    stderr.write(`kukeond: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    stderr.write(USAGE);
    return 0;
  }
  const { VERSION } = require('../host/version') as typeof import('../host/version');
  if (values.version) {
    process.stdout.write(`kukeond v${VERSION}\n`);
    return 0;
  }
  const interval = (values['reconcile-interval'] as string | undefined) ?? process.env.KUKEON_RECONCILE_INTERVAL;
  const reconcileSeconds = interval === undefined || interval === '' ? 30 : Number(interval);
  // Node's timers take at most 2^31-1 ms (~24.8 days); a longer interval would fire at once, over and over
  if (!Number.isFinite(reconcileSeconds) || reconcileSeconds < 0 || reconcileSeconds > 86_400) {
    stderr.write(`kukeond: --reconcile-interval must be a number of seconds from 0 to 86400 (got ${JSON.stringify(interval)})\n${USAGE}`);
    return 2;
  }
  if (values.verbose) createDebug.enable(['kukeon:*', process.env.DEBUG].filter(Boolean).join(','));
  const log = createDebug('kukeon:daemon');

  const { createHost } = require('../host') as typeof import('../host');
  const { runStartUpPass } = require('../host/supervision/start-up-pass') as typeof import('../host/supervision/start-up-pass');
  let host: Awaited<ReturnType<typeof createHost>>;
  let server: { address: string; close(): Promise<void> };
  let cri: { address: string; close(): Promise<void> } | undefined;
  let startUp: StartUpPass;
  try {
    host = await createHost({
      runPath: values['run-path'] as string | undefined,
      configPath: values.config as string | undefined,
      flags: {
        '--containerd-socket': values['containerd-socket'] as string | undefined,
        '--socket': values.socket as string | undefined,
        '--cri-socket': values['cri-socket'] as string | undefined,
      },
      daemon: true,
    });
    const api = host.services.get('api');
    if (!api) {
      const status = host.plugins.find((p) => p.slot === 'api');
      const why = status
        ? `plugin ${status.name} is ${status.state}${status.reason ? `: ${status.reason}` : ''}`
        : 'no plugin fills the api slot';
      await host.close();
      throw new KukeonError('KUKEON_E_CONFIG', `kukeond cannot serve without an api plugin (${why})`);
    }
    // Before serving (and before anything supervises): reboot recovery and policy starts (supervision/start-up-pass.ts).
    // A live daemon on the socket is refused before the pass touches any cell.
    const socketPath = api.prepare?.() ?? ((values.socket as string) || process.env.KUKEON_SOCKET || DEFAULT_SOCKET);
    await claimSocket(socketPath);
    startUp = await runStartUpPass(host, path.dirname(socketPath), stderr);
    server = await api.listen(host.api);
    // the other front end slot: the Kubernetes CRI, over the same controller (only when the configuration lists it)
    const criStatus = host.plugins.find((p) => p.slot === 'cri');
    if (criStatus && criStatus.state !== 'ok')
      stderr.write(`kukeond: ${criStatus.name} is ${criStatus.state}: ${criStatus.reason ?? ''}\n`);
    cri = await host.services.get('cri')?.listen(host.api);
  } catch (err) {
    stderr.write(`kukeond: ${isKukeonError(err) ? err.describe() : (err as Error).message}\n`);
    return 1;
  }
  // Follows container exits and applies restart policies while the daemon runs.
  const { Supervisor } = require('../host/supervision/supervisor') as typeof import('../host/supervision/supervisor');
  const supervisor = new Supervisor({
    lifecycle: host.lifecycle,
    state: host.state,
    services: host.services,
    reconcileIntervalMs: Math.round(reconcileSeconds * 1000),
    onDown: (cellPath, id) => void host.secretStaging.remove(cellPath, id),
    onFinished: (ref) =>
      void host.api
        .delete({ ref, force: true })
        .catch((err) => stderr.write(`kukeond: autoDelete of ${ref.path.join('/')}: ${(err as Error).message}\n`)),
  });
  const pidFile = pidFileOf(server.address);
  writeFileAtomicSync(pidFile, `${process.pid}\n`, { mode: 0o644 });

  // One request's failure must not take the daemon down: a stray rejection is logged, the daemon keeps serving.
  process.on('unhandledRejection', (reason) =>
    stderr.write(`kukeond: unhandled rejection (the daemon keeps serving): ${String((reason as Error)?.stack ?? reason)}\n`),
  );

  stderr.write(`kukeond v${VERSION} serving ${server.address} (pid ${process.pid}, run path ${host.paths.runPath})\n`);
  if (cri) stderr.write(`kukeond: serving the Kubernetes CRI (runtime.v1) on ${cri.address}\n`);
  // The supervisor starts once the start-up pass has run (at once, or after its retries): it never races the pass.
  const stopRetry = startUp.retryInBackground(() => supervisor.start());
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log('%s: shutting down', signal);
  stopRetry();
  await supervisor.stop();
  await cri?.close();
  await server.close();
  await host.close();
  removeIfOurs(pidFile);
  fs.rmSync(server.address, { force: true });
  stderr.write(`kukeond: ${signal}: stopped\n`);
  return 0;
}

/** Removes the pid file only when it still names this process (a second daemon may have taken over). */
function removeIfOurs(pidFile: string): void {
  try {
    if (fs.readFileSync(pidFile, 'utf8').trim() === String(process.pid)) fs.rmSync(pidFile, { force: true });
  } catch {
    // already gone
  }
}
