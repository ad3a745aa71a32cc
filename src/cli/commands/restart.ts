import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { formatRef } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { refIn } from '../scope';

export class RestartCommand extends BaseCommand {
  static override paths = [['restart']];
  static override usage = Command.Usage({ description: 'Stop a cell, then start it' });

  name = Option.String({ required: true });
  timeout = Option.String('--timeout', '10', { validator: t.isNumber(), description: 'Seconds before SIGKILL on stop (default 10)' });
  realm = Option.String('--realm');
  space = Option.String('--space');
  stack = Option.String('--stack');

  protected async run(): Promise<number> {
    const ref = refIn('Cell', this.name, { realm: this.realm, space: this.space, stack: this.stack });
    await (await this.host()).controller.restart(ref, { signal: 'SIGTERM', timeoutMs: Math.round(this.timeout * 1000) });
    this.out(`${formatRef(ref)} restarted\n`);
    return 0;
  }
}
