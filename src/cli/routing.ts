// Where a command runs: in this process (the controller in-process) or through the daemon's socket.
// One function decides it, so the rule is tested in one place.

export type Route = { mode: 'in-process' | 'daemon'; reason: string };

export interface RouteInput {
  /** `--no-daemon` on the commands that have it (init, uninstall, purge, every get). */
  noDaemon?: boolean;
  /** `KUKEON_NO_DAEMON`. */
  env?: string;
  /** `--run-path` was given on the command line. */
  runPathExplicit?: boolean;
}

export function routeCommand(input: RouteInput): Route {
  if (input.noDaemon) return { mode: 'in-process', reason: '--no-daemon' };
  if (input.env !== undefined && ['1', 'true', 'yes'].includes(input.env.toLowerCase()))
    return { mode: 'in-process', reason: 'KUKEON_NO_DAEMON' };
  if (input.runPathExplicit) return { mode: 'in-process', reason: '--run-path' };
  return { mode: 'daemon', reason: 'default' };
}
