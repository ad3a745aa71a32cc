import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base-command';
import { checkName } from '../../../host/validation/names';

export class ImagePruneCommand extends BaseCommand {
  static override paths = [['image', 'prune']];
  static override usage = Command.Usage({
    category: 'Images',
    examples: [['Remove the images no cell of realm main uses', '$0 image prune --realm main']],
    description: "Remove the realm's images that no cell of the realm uses",
  });

  realm = Option.String('--realm', 'default', { description: 'Realm (default: default)' });

  protected async run(): Promise<number> {
    checkName(this.realm, '--realm');
    const removed = await (await this.api()).pruneImages({ realm: this.realm }, this.call());
    for (const name of removed) this.out(`removed ${name}\n`);
    if (!removed.length) this.out('nothing to prune\n');
    return 0;
  }
}
