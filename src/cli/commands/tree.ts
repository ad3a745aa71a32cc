import { Command, Option } from 'clipanion';
import type { AnyDoc, CellDoc } from '../../../sdk';
import { checkName } from '../../host/validation/names';
import { BaseCommand } from '../base-command';
import { treeText } from '../output/tree-text';

export class TreeCommand extends BaseCommand {
  static override paths = [['tree']];
  static override usage = Command.Usage({
    category: 'Resources',
    description: 'Show the hierarchy realm > space > stack > cell > container with states, IPs and limits',
    details:
      "Every realm, or one with --realm. Cells' and containers' states are read from the live tasks, as `get` reads them. " +
      'Box-drawing characters on a terminal, plain ASCII when piped or with --ascii.',
    examples: [
      ['The whole host', '$0 tree'],
      ['One realm, for a file', '$0 tree --realm main --ascii > tree.txt'],
    ],
  });

  realm = Option.String('--realm', { description: 'Only this realm' });
  ascii = Option.Boolean('--ascii', false, { description: 'Plain ASCII even on a terminal' });
  noDaemon = Option.Boolean('--no-daemon', false, { description: 'Run in-process' });

  protected override noDaemonFlag(): boolean {
    return this.noDaemon;
  }

  protected async run(): Promise<number> {
    if (this.realm !== undefined) checkName(this.realm, 'realm name');
    const api = await this.api();
    const list = async (kind: 'Realm' | 'Space' | 'Stack' | 'Cell'): Promise<AnyDoc[]> => {
      const docs = await api.get({ kind, scope: [], allRealms: true }, this.call());
      return this.realm === undefined
        ? docs
        : docs.filter((d) => (kind === 'Realm' ? d.metadata.name : (d.spec as { realmId?: string }).realmId) === this.realm);
    };
    const [realms, spaces, stacks, cells] = await Promise.all([list('Realm'), list('Space'), list('Stack'), list('Cell')]);
    if (this.realm !== undefined && !realms.length) this.err(`No realm ${this.realm}.\n`);
    const unicode = !this.ascii && (this.context.stdout as { isTTY?: boolean }).isTTY === true;
    this.out(treeText({ realms, spaces, stacks, cells: cells as CellDoc[] }, unicode));
    return this.realm !== undefined && !realms.length ? 1 : 0;
  }
}
