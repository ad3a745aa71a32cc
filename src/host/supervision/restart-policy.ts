// Restart policies with Docker's restart manager semantics (moby restartmanager): the decisions only, no I/O, so the
// supervisor (container exits while the daemon runs) and the daemon's start-up pass (after its own restart or a
// reboot) decide alike.

import type { ContainerSpec, ContainerStatus, RestartPolicy } from '../../../sdk';

export const DEFAULT_MAX_RETRIES = 5;
export const DEFAULT_BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 60_000;
/** A container that ran this long before it exited starts again at the initial delay. */
export const BACKOFF_RESET_MS = 10_000;

export interface Policy {
  policy: RestartPolicy;
  maxRetries: number;
  /** The first restart's delay. */
  backoffMs: number;
}

export function policyOf(spec: Pick<ContainerSpec, 'restartPolicy' | 'restartMaxRetries' | 'restartBackoffSeconds'>): Policy {
  return {
    policy: spec.restartPolicy ?? 'never',
    maxRetries: spec.restartMaxRetries ?? DEFAULT_MAX_RETRIES,
    backoffMs: spec.restartBackoffSeconds === undefined ? DEFAULT_BACKOFF_MS : Math.round(spec.restartBackoffSeconds * 1000),
  };
}

/** How a container ended. */
export interface ExitFacts {
  exitCode: number;
  /** Stopped or killed by `kuke stop`/`kill` (persisted as `status.stoppedByUser`). */
  byUser: boolean;
  /** Restarts so far (`status.restartCount`). */
  restartCount: number;
}

/** Whether the daemon restarts a container that just exited while it ran. */
export function restartsAfterExit(p: Policy, exit: ExitFacts): boolean {
  if (exit.byUser) return false; // a user stop is never undone while the daemon runs, whatever the policy
  switch (p.policy) {
    case 'never':
      return false;
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return exit.exitCode !== 0 && exit.restartCount < p.maxRetries;
  }
}

/** Whether `on-failure` gave up: the retry cap was reached on a failing exit. */
export function exhausted(p: Policy, exit: Pick<ExitFacts, 'exitCode' | 'restartCount'>): boolean {
  return p.policy === 'on-failure' && exit.exitCode !== 0 && exit.restartCount >= p.maxRetries;
}

/**
 * Whether a container without a task is started when the daemon starts (after its own restart or a reboot):
 * `always` even after a user stop (as Docker's daemon start); `unless-stopped` unless the user stopped it;
 * `on-failure` when its last exit failed and the cap is not reached; `never` not.
 */
export function startsWithDaemon(p: Policy, status: Pick<ContainerStatus, 'stoppedByUser' | 'exitCode' | 'restartCount'>): boolean {
  switch (p.policy) {
    case 'never':
      return false;
    case 'always':
      return true;
    case 'unless-stopped':
      return !status.stoppedByUser;
    case 'on-failure':
      return !status.stoppedByUser && (status.exitCode ?? 0) !== 0 && (status.restartCount ?? 0) < p.maxRetries;
  }
}

/**
 * The delay before the next restart: the policy's initial delay after a run of BACKOFF_RESET_MS or more (or
 * the first time), else the previous delay doubled, at most MAX_BACKOFF_MS.
 */
export function nextDelayMs(p: Policy, previousDelayMs: number | undefined, ranMs: number): number {
  if (previousDelayMs === undefined || ranMs >= BACKOFF_RESET_MS) return Math.min(p.backoffMs, MAX_BACKOFF_MS);
  return Math.min(Math.max(previousDelayMs * 2, 1), MAX_BACKOFF_MS);
}
