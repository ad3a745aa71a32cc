import { Command, Option } from 'clipanion';
import { CellCommand } from '../cell-command';
import { followFile } from '../follow-file';

export class LogCommand extends CellCommand {
  static override paths = [['log'], ['logs']];
  static override usage = Command.Usage({
    description: "Print a container's stdout and stderr (written by the containerd shim to <cell>/logs/<container>.log)",
    details: "Without --container: the cell's single workload. `-f` follows until the container exits.",
  });

  container = Option.String('--container');
  follow = Option.Boolean('-f,--follow', false);

  protected async run(): Promise<number> {
    const ref = this.cellRef();
    const controller = (await this.host()).controller;
    const { container, path } = await controller.logPath(ref, this.container);
    const exited = this.follow ? controller.wait(ref, container) : undefined;
    await followFile(path, this.context.stdout, exited);
    return 0;
  }
}
