import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base-command';
import { checkName } from '../../../host/validation/names';

export class ImageRmCommand extends BaseCommand {
  static override paths = [['image', 'rm'], ['image', 'remove'], ['rmi']];
  static override usage = Command.Usage({
    description: "Remove images from a realm (their content goes with containerd's garbage collection)",
  });

  refs = Option.Rest({ required: 1 });
  realm = Option.String('--realm', 'default');

  protected async run(): Promise<number> {
    checkName(this.realm, '--realm');
    const controller = (await this.host()).controller;
    for (const ref of this.refs) {
      await controller.removeImage(this.realm, ref);
      this.out(`removed ${ref}\n`);
    }
    return 0;
  }
}
