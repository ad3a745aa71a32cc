import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { formatRef } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { refIn } from '../scope';

export class StopCommand extends BaseCommand {
  static override paths = [['stop']];
  static override usage = Command.Usage({ description: 'Stop a cell: SIGTERM, then SIGKILL after the timeout; workloads first, root last' });

  name = Option.String({ required: true });
  timeout = Option.String('--timeout', '10', { validator: t.isNumber(), description: 'Seconds before SIGKILL (default 10)' });
  realm = Option.String('--realm');
  space = Option.String('--space');
  stack = Option.String('--stack');

  protected async run(): Promise<number> {
    const ref = refIn('Cell', this.name, { realm: this.realm, space: this.space, stack: this.stack });
    await (await this.host()).controller.stop(ref, { signal: 'SIGTERM', timeoutMs: Math.round(this.timeout * 1000) });
    this.out(`${formatRef(ref)} stopped\n`);
    return 0;
  }
}
