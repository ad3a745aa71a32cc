// kukeond's start-up pass around boot-recovery: decides reboot or plain restart from the boot marker in the
// socket's directory, runs the recovery, and records this boot only once the recovery ran (a pass skipped because
// containerd does not answer runs again: in the background while the daemon serves, and at the next start).

import fs from 'node:fs';
import { toKukeonError } from '../../../sdk';
import type { Host } from '../host';
import { BootMarker } from './boot-marker';
import { describeRecovery, recoverAtStart } from './boot-recovery';
import type { BootRecoveryReport } from './boot-recovery';

const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 60_000;

export interface StartUpPass {
  report: BootRecoveryReport | undefined;
  /**
   * When the pass was skipped: runs it again with backoff until it is done, then calls `onDone` (at once when no
   * retry is needed); returns the cancel. The supervisor starts from `onDone`, so it never races the pass.
   */
  retryInBackground(onDone?: () => void): () => void;
}

/** `socketDir`: where the alive file goes (the api plugin made it; made here `0700` when it did not). */
export async function runStartUpPass(host: Host, socketDir: string, stderr: NodeJS.WritableStream): Promise<StartUpPass> {
  let marker: BootMarker;
  try {
    fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    marker = new BootMarker(socketDir);
  } catch (err) {
    stderr.write(`kukeond: start-up pass skipped: ${toKukeonError(err).describe()}\n`);
    return { report: undefined, retryInBackground: () => () => undefined };
  }
  const once = async (): Promise<BootRecoveryReport | undefined> => {
    const before = marker.recorded();
    let report: BootRecoveryReport;
    try {
      report = await recoverAtStart(
        { store: host.services.get('store')!, lifecycle: host.lifecycle, tasks: host.services.get('runtime.tasks'), plugins: host.plugins },
        before !== marker.bootId,
      );
      if (!report.skipped) marker.record();
    } catch (err) {
      stderr.write(`kukeond: start-up pass failed (the daemon serves; the next start retries): ${toKukeonError(err).describe()}\n`);
      return undefined;
    }
    const why = before === undefined ? 'no alive file' : before !== marker.bootId ? `boot id was ${before}` : 'same boot';
    stderr.write(`kukeond: ${describeRecovery(report)} [boot ${marker.bootId}, ${why}]\n`);
    return report;
  };
  const report = await once();
  return {
    report,
    retryInBackground(onDone) {
      if (!report?.skipped || !host.services.get('runtime.tasks')) {
        onDone?.();
        return () => undefined;
      }
      let timer: NodeJS.Timeout | undefined;
      let cancelled = false;
      const schedule = (delay: number) => {
        timer = setTimeout(async () => {
          const again = await once();
          if (cancelled) return;
          if (again?.skipped) schedule(Math.min(delay * 2, RETRY_MAX_MS));
          else onDone?.();
        }, delay);
        timer.unref();
      };
      schedule(RETRY_FIRST_MS);
      return () => {
        cancelled = true;
        clearTimeout(timer);
      };
    },
  };
}
