import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { formatRef } from '../../../sdk';
import { CellCommand } from '../cell-command';

export class RestartCommand extends CellCommand {
  static override paths = [['restart']];
  static override usage = Command.Usage({
    category: 'Cells',
    examples: [['Stop and start a cell', '$0 restart web --realm main --space blog --stack wp']],
    description: 'Stop a cell, then start it',
  });

  timeout = Option.String('--timeout', '10', { validator: t.isNumber(), description: 'Seconds before SIGKILL on stop (default 10)' });

  protected async run(): Promise<number> {
    const ref = this.cellRef();
    await (await this.api()).restart({ ref, timeoutMs: Math.round(this.timeout * 1000) }, this.call());
    this.out(`${formatRef(ref)} restarted\n`);
    return 0;
  }
}
