import { Command, Option } from 'clipanion';
import { formatRef } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { refIn } from '../scope';

export class KillCommand extends BaseCommand {
  static override paths = [['kill'], ['k']];
  static override usage = Command.Usage({ description: 'Stop a cell with SIGKILL and no grace period' });

  name = Option.String({ required: true });
  realm = Option.String('--realm');
  space = Option.String('--space');
  stack = Option.String('--stack');

  protected async run(): Promise<number> {
    const ref = refIn('Cell', this.name, { realm: this.realm, space: this.space, stack: this.stack });
    await (await this.host()).controller.kill(ref);
    this.out(`${formatRef(ref)} killed\n`);
    return 0;
  }
}
