import { Command, Option } from 'clipanion';
import { API_VERSION, formatRef } from '../../../../sdk';
import { BaseCommand } from '../../base-command';
import { forceSystemOption } from '../../force-system';

export class CreateSpaceCommand extends BaseCommand {
  static override paths = [
    ['create', 'space'],
    ['create', 'sp'],
    ['c', 'space'],
  ];
  static override usage = Command.Usage({
    category: 'Resources',
    examples: [['A space with its network, in realm main', '$0 create space blog --realm main']],
    description: 'Create a space (one network) in a realm; the realm must exist',
  });

  name = Option.String({ required: true });
  forceSystem = forceSystemOption();
  realm = Option.String('--realm', 'default', { description: 'Realm (default: default)' });

  protected async run(): Promise<number> {
    const r = await (await this.api()).create(
      {
        doc: {
          apiVersion: API_VERSION,
          kind: 'Space',
          metadata: { name: this.name },
          spec: { realmId: this.realm },
        },
        forceSystem: this.forceSystem,
      },
      this.call(),
    );
    this.out(`${formatRef(r.ref)} ${r.action}\n`);
    return 0;
  }
}
