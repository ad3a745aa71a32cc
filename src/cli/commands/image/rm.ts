import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base-command';
import { checkName } from '../../../host/validation/names';

export class ImageRmCommand extends BaseCommand {
  static override paths = [['image', 'rm'], ['image', 'remove'], ['rmi']];
  static override usage = Command.Usage({
    category: 'Images',
    examples: [['Remove an image from realm main', '$0 image rm docker.io/library/busybox:latest --realm main']],
    description: "Remove images from a realm (their content goes with containerd's garbage collection)",
  });

  refs = Option.Rest({ required: 1 });
  realm = Option.String('--realm', 'default', { description: 'Realm (default: default)' });

  protected async run(): Promise<number> {
    checkName(this.realm, '--realm');
    const api = await this.api();
    for (const ref of this.refs) {
      await api.removeImage({ realm: this.realm, ref }, this.call());
      this.out(`removed ${ref}\n`);
    }
    return 0;
  }
}
