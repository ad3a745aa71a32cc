import { Command, Option } from 'clipanion';
import { API_VERSION, formatRef } from '../../../../sdk';
import { BaseCommand } from '../../base-command';
import { forceSystemOption } from '../../force-system';

export class CreateRealmCommand extends BaseCommand {
  static override paths = [
    ['create', 'realm'],
    ['create', 'r'],
    ['c', 'realm'],
  ];
  static override usage = Command.Usage({
    category: 'Resources',
    examples: [['A realm (its containerd namespace and cgroup)', '$0 create realm main']],
    description: 'Create a realm (its own containerd namespace)',
  });

  name = Option.String({ required: true });
  forceSystem = forceSystemOption();
  namespace = Option.String('--namespace', { description: 'containerd namespace (default kukeon-<realm>)' });

  protected async run(): Promise<number> {
    const spec = this.namespace ? { namespace: this.namespace } : {};
    const r = await (await this.api()).create(
      { doc: { apiVersion: API_VERSION, kind: 'Realm', metadata: { name: this.name }, spec }, forceSystem: this.forceSystem },
      this.call(),
    );
    this.out(`${formatRef(r.ref)} ${r.action}\n`);
    return 0;
  }
}
