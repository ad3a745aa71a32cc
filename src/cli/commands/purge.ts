import { Command, Option } from 'clipanion';
import { formatRef } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { forceSystemOption } from '../force-system';
import { parseKind } from '../kinds';
import { refIn } from '../scope';

export class PurgeCommand extends BaseCommand {
  static override paths = [['purge'], ['p']];
  static override usage = Command.Usage({
    category: 'Resources',
    examples: [
      ['A realm and everything under it, past backend errors', '$0 purge realm main --cascade'],
      ['One cell', '$0 purge cell web --realm main --space blog --stack wp'],
    ],
    description: 'Delete a resource and sweep what is left of it in every backend',
    details: 'Succeeds when parts (or the whole resource) are already gone. Children need `--cascade`.',
  });

  kind = Option.String({ required: true });
  name = Option.String({ required: true });
  cascade = Option.Boolean('--cascade', false, { description: 'Purge children too' });
  force = Option.Boolean('--force', false, { description: 'Accepted for compatibility: purge always goes on past backend errors' });
  noDaemon = Option.Boolean('--no-daemon', false, { description: 'Run in-process' });
  realm = Option.String('--realm', { description: 'Realm (default: default)' });
  space = Option.String('--space', { description: 'Space (default: default)' });
  stack = Option.String('--stack', { description: 'Stack (default: default)' });
  forceSystem = forceSystemOption();

  protected override noDaemonFlag(): boolean {
    return this.noDaemon;
  }

  protected async run(): Promise<number> {
    const kind = parseKind(this.kind, ['Realm', 'Space', 'Stack', 'Cell']);
    const ref = refIn(kind, this.name, { realm: this.realm, space: this.space, stack: this.stack });
    for (const i of await (await this.api()).purge({ ref, cascade: this.cascade, forceSystem: this.forceSystem }, this.call()))
      this.out(`${formatRef(i.ref)} purged${i.kept ? ` (reclaimPolicy Retain: data kept at ${i.kept})` : ''}\n`);
    return 0;
  }
}
