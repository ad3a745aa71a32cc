import { Command, Option } from 'clipanion';
import { API_VERSION, formatRef } from '../../../../sdk';
import { BaseCommand } from '../../base-command';

export class CreateRealmCommand extends BaseCommand {
  static override paths = [
    ['create', 'realm'],
    ['create', 'r'],
    ['c', 'realm'],
  ];
  static override usage = Command.Usage({ description: 'Create a realm (its own containerd namespace)' });

  name = Option.String({ required: true });
  namespace = Option.String('--namespace', { description: 'containerd namespace (default kukeon-<realm>)' });

  protected async run(): Promise<number> {
    const spec = this.namespace ? { namespace: this.namespace } : {};
    const r = await (await this.api()).create(
      { doc: { apiVersion: API_VERSION, kind: 'Realm', metadata: { name: this.name }, spec } },
      this.call(),
    );
    this.out(`${formatRef(r.ref)} ${r.action}\n`);
    return 0;
  }
}
