import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base-command';
import { renderTable } from '../../output/table';
import { checkName } from '../../../host/validation/names';

export class ImageLsCommand extends BaseCommand {
  static override paths = [['image', 'ls'], ['image', 'list'], ['images']];
  static override usage = Command.Usage({
    category: 'Images',
    examples: [['Images of realm main', '$0 image ls --realm main']],
    description: "List the images in a realm's containerd namespace",
  });

  realm = Option.String('--realm', 'default', { description: 'Realm (default: default)' });
  output = Option.String('-o,--output', { description: 'table|json' });

  protected async run(): Promise<number> {
    checkName(this.realm, '--realm');
    const images = await (await this.api()).listImages({ realm: this.realm }, this.call());
    if (this.output === 'json') this.out(`${JSON.stringify(images, null, 2)}\n`);
    else
      this.out(
        renderTable(
          ['NAME', 'DIGEST', 'SIZE'],
          images.map((i) => [i.name, i.digest, String(i.size)]),
        ),
      );
    return 0;
  }
}
