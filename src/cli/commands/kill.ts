import { Command } from 'clipanion';
import { formatRef } from '../../../sdk';
import { CellCommand } from '../cell-command';

export class KillCommand extends CellCommand {
  static override paths = [['kill'], ['k']];
  static override usage = Command.Usage({
    category: 'Cells',
    examples: [['Kill a cell at once', '$0 kill web --realm main --space blog --stack wp']],
    description: 'Stop a cell with SIGKILL and no grace period',
  });

  protected async run(): Promise<number> {
    const ref = this.cellRef();
    await (await this.api()).kill({ ref }, this.call());
    this.out(`${formatRef(ref)} killed\n`);
    return 0;
  }
}
