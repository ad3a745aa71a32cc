import { Command } from 'clipanion';
import { formatRef } from '../../../sdk';
import { CellCommand } from '../cell-command';

export class StartCommand extends CellCommand {
  static override paths = [['start']];
  static override usage = Command.Usage({
    category: 'Cells',
    examples: [['Start a stopped cell', '$0 start web --realm main --space blog --stack wp']],
    description: 'Start a cell: its root first, then its workloads (needs a runtime plugin)',
  });

  protected async run(): Promise<number> {
    const ref = this.cellRef();
    await (await this.api()).start({ ref }, this.call());
    this.out(`${formatRef(ref)} started\n`);
    return 0;
  }
}
