import { Command, Option } from 'clipanion';
import { API_VERSION, formatRef } from '../../../../sdk';
import type { CellDoc, ContainerSpec } from '../../../../sdk';
import { BaseCommand } from '../../base-command';
import { forceSystemOption } from '../../force-system';

export class CreateCellCommand extends BaseCommand {
  static override paths = [
    ['create', 'cell'],
    ['create', 'ce'],
    ['c', 'cell'],
  ];
  static override usage = Command.Usage({
    category: 'Resources',
    description: 'Create a cell with one container, stopped; the stack must exist',
    details:
      'The container is named after the cell. `--command` replaces the image entrypoint; arguments after `--` (or `--args`) replace its cmd.',
    examples: [['A sleeping busybox', '$0 create cell sleeper --image busybox --command sleep -- 3600']],
  });

  name = Option.String({ required: true });
  forceSystem = forceSystemOption();
  image = Option.String('--image', { required: true, description: 'Image reference' });
  command = Option.String('--command', { description: "Replaces the image's entrypoint" });
  args = Option.Array('--args', { description: "Replaces the image's cmd (repeatable)" });
  env = Option.Array('-e,--env', { description: 'K=V (repeatable)' });
  rest = Option.Rest();
  pull = Option.String('--pull', {
    description: "missing|never|always: when to pull a container's image (default missing; env KUKEON_PULL)",
  });
  realm = Option.String('--realm', 'default', { description: 'Realm (default: default)' });
  space = Option.String('--space', 'default', { description: 'Space (default: default)' });
  stack = Option.String('--stack', 'default', { description: 'Stack (default: default)' });

  protected async run(): Promise<number> {
    const container: ContainerSpec = { id: this.name, image: this.image };
    if (this.command) container.command = this.command;
    const args = [...(this.args ?? []), ...this.rest];
    if (args.length) container.args = args;
    if (this.env?.length) container.env = this.env;
    const doc: CellDoc = {
      apiVersion: API_VERSION,
      kind: 'Cell',
      metadata: { name: this.name },
      spec: { realmId: this.realm, spaceId: this.space, stackId: this.stack, containers: [container] },
    };
    const r = await (await this.api()).create(
      { doc, pull: this.pullPolicy(this.pull), credentials: this.credentials(), forceSystem: this.forceSystem },
      this.call(),
    );
    this.out(`${formatRef(r.ref)} ${r.action}\n`);
    return 0;
  }
}
