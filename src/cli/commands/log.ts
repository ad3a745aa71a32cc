import { Command, Option } from 'clipanion';
import { CellCommand } from '../cell-command';

export class LogCommand extends CellCommand {
  static override paths = [['log'], ['logs']];
  static override usage = Command.Usage({
    category: 'Cells',
    examples: [
      ["Follow a cell's log", '$0 log web --realm main --space blog --stack wp -f'],
      ['One container of a cell', '$0 log web --realm main --space blog --stack wp --container nginx'],
    ],
    description: "Print a container's stdout and stderr (written by the containerd shim to <cell>/logs/<container>.log)",
    details: "Without --container: the cell's single workload. `-f` follows until the container exits.",
  });

  container = Option.String('--container', { description: 'Which container (default: the single workload container)' });
  follow = Option.Boolean('-f,--follow', false, { description: 'Keep printing as the log grows' });

  protected async run(): Promise<number> {
    const ref = this.cellRef();
    const logs = (await this.api()).logs({ ref, container: this.container, follow: this.follow }, this.call());
    for await (const chunk of logs) this.context.stdout.write(chunk);
    return 0;
  }
}
