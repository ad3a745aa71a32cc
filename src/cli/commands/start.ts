import { Command, Option } from 'clipanion';
import { formatRef } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { refIn } from '../scope';

export class StartCommand extends BaseCommand {
  static override paths = [['start']];
  static override usage = Command.Usage({ description: 'Start a cell: its root first, then its workloads (needs a runtime plugin)' });

  name = Option.String({ required: true });
  realm = Option.String('--realm');
  space = Option.String('--space');
  stack = Option.String('--stack');

  protected async run(): Promise<number> {
    const ref = refIn('Cell', this.name, { realm: this.realm, space: this.space, stack: this.stack });
    await (await this.host()).controller.start(ref);
    this.out(`${formatRef(ref)} started\n`);
    return 0;
  }
}
