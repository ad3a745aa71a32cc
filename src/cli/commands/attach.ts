import { Command, Option } from 'clipanion';
import { KukeonError } from '../../../sdk';
import type { AttachResult, Ref } from '../../../sdk';
import type { ControllerApi } from '../../../sdk';
import { CellCommand } from '../cell-command';
import { ClientSession } from '../session/client-session';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../session/detach-keys';

export class AttachCommand extends CellCommand {
  static override paths = [['attach'], ['att']];
  static override usage = Command.Usage({
    category: 'Cells',
    description: "Attach this terminal to an attachable container's terminal",
    details:
      "Default container: `--container`, else the cell's `spec.tty.default`, else its single attachable container. Ends with the container process's exit code when it exits; the detach keys (Ctrl-P Ctrl-Q unless `--detach-keys`) leave it running. Needs kukeond, which owns the terminals; this side must be a terminal unless `--no-stdin`.",
    examples: [
      ['Attach to the shell of a cell', '$0 attach dev --realm main --space blog --stack wp'],
      ['Other detach keys', '$0 attach dev --container shell --detach-keys ctrl-x,x'],
    ],
  });

  container = Option.String('--container', { description: 'Which container (default: spec.tty.default, else the single attachable one)' });
  detachKeys = Option.String('--detach-keys', DEFAULT_DETACH_KEYS, { description: 'Keys that detach (default ctrl-p,ctrl-q)' });
  noStdin = Option.Boolean('--no-stdin', false, { description: 'Only show the output (Ctrl-C detaches)' });

  protected async run(): Promise<number> {
    const ref = this.cellRef();
    const stdin = !this.noStdin;
    const detachKeys = parseDetachKeys(this.detachKeys);
    const session = new ClientSession({ stdin, tty: stdin, detachKeys, signal: this.call().signal });
    return attachSession(await this.api(), session, { ref, container: this.container, stdin }, this.context.stderr);
  }
}

/**
 * Relays `session` to the container's terminal until its process exits (its code) or the client leaves (0: the
 * detach keys, SIGTERM or SIGHUP; the container runs on).
 */
export async function attachSession(
  api: ControllerApi,
  session: ClientSession,
  req: { ref: Ref; container?: string; stdin: boolean },
  stderr: NodeJS.WritableStream,
): Promise<number> {
  let result: AttachResult;
  try {
    result = await api.attach({ ...req, size: session.size() }, session.io(), { signal: session.signal });
  } catch (err) {
    // the transport may report the client's own ending of the call as a cancellation
    if (!session.detached) throw err;
    result = { detached: true };
  } finally {
    session.close();
  }
  if (result.detached) {
    if (session.detached) stderr.write('\r\nread escape sequence\r\n');
    return 0;
  }
  if (result.exitCode === undefined) throw new KukeonError('KUKEON_E_STATE', 'the container exited; its exit status is unknown');
  return result.exitCode;
}
