import { Command, Option } from 'clipanion';
import { BaseCommand } from '../base-command';
import { followFile } from '../follow-file';
import { refIn } from '../scope';

export class LogCommand extends BaseCommand {
  static override paths = [['log'], ['logs']];
  static override usage = Command.Usage({
    description: "Print a container's stdout and stderr (written by the containerd shim to <cell>/logs/<container>.log)",
    details: 'Without --container: the cell\'s single workload. `-f` follows until the container exits.',
  });

  name = Option.String({ required: true });
  container = Option.String('--container');
  follow = Option.Boolean('-f,--follow', false);
  realm = Option.String('--realm');
  space = Option.String('--space');
  stack = Option.String('--stack');

  protected async run(): Promise<number> {
    const ref = refIn('Cell', this.name, { realm: this.realm, space: this.space, stack: this.stack });
    const controller = (await this.host()).controller;
    const { container, path } = await controller.logPath(ref, this.container);
    const exited = this.follow ? controller.wait(ref, container) : undefined;
    await followFile(path, this.context.stdout, exited);
    return 0;
  }
}
