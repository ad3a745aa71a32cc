import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { formatRef } from '../../../sdk';
import { CellCommand } from '../cell-command';

export class StopCommand extends CellCommand {
  static override paths = [['stop']];
  static override usage = Command.Usage({
    category: 'Cells',
    examples: [['Stop a cell, SIGKILL after 30 s', '$0 stop web --realm main --space blog --stack wp --timeout 30']],
    description: 'Stop a cell: SIGTERM, then SIGKILL after the timeout; workloads first, root last',
  });

  timeout = Option.String('--timeout', '10', { validator: t.isNumber(), description: 'Seconds before SIGKILL (default 10)' });

  protected async run(): Promise<number> {
    const ref = this.cellRef();
    await (await this.api()).stop({ ref, timeoutMs: Math.round(this.timeout * 1000) }, this.call());
    this.out(`${formatRef(ref)} stopped\n`);
    return 0;
  }
}
