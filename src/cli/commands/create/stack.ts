import { Command, Option } from 'clipanion';
import { API_VERSION, formatRef } from '../../../../sdk';
import { BaseCommand } from '../../base-command';
import { forceSystemOption } from '../../force-system';

export class CreateStackCommand extends BaseCommand {
  static override paths = [
    ['create', 'stack'],
    ['create', 'st'],
    ['c', 'stack'],
  ];
  static override usage = Command.Usage({
    category: 'Resources',
    examples: [['A stack in space blog', '$0 create stack wp --realm main --space blog']],
    description: 'Create a stack in a space; the space must exist',
  });

  name = Option.String({ required: true });
  forceSystem = forceSystemOption();
  realm = Option.String('--realm', 'default', { description: 'Realm (default: default)' });
  space = Option.String('--space', 'default', { description: 'Space (default: default)' });

  protected async run(): Promise<number> {
    const r = await (await this.api()).create(
      {
        doc: {
          apiVersion: API_VERSION,
          kind: 'Stack',
          metadata: { name: this.name },
          spec: { realmId: this.realm, spaceId: this.space },
        },
        forceSystem: this.forceSystem,
      },
      this.call(),
    );
    this.out(`${formatRef(r.ref)} ${r.action}\n`);
    return 0;
  }
}
