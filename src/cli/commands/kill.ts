import { Command } from 'clipanion';
import { formatRef } from '../../../sdk';
import { CellCommand } from '../cell-command';

export class KillCommand extends CellCommand {
  static override paths = [['kill'], ['k']];
  static override usage = Command.Usage({ description: 'Stop a cell with SIGKILL and no grace period' });

  protected async run(): Promise<number> {
    const ref = this.cellRef();
    await (await this.api()).kill({ ref }, this.call());
    this.out(`${formatRef(ref)} killed\n`);
    return 0;
  }
}
