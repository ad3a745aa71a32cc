import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base-command';
import { renderTable } from '../../output/table';

export class PluginsLsCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [
    ['plugins', 'ls'],
    ['plugins', 'list'],
  ];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    examples: [['Each loaded plugin with its slot and state', '$0 plugins ls']],
    description: 'List the loaded plugins with their slot and status (ok, skip, error)',
  });

  output = Option.String('-o,--output', { description: 'table|json' });

  protected async run(): Promise<number> {
    const host = await this.host();
    if (this.output === 'json') {
      this.out(`${JSON.stringify(host.plugins, null, 2)}\n`);
      return 0;
    }
    const rows = host.plugins.map((p) => [p.name, p.version, p.slot ?? '-', p.state, p.reason ?? '']);
    this.out(renderTable(['NAME', 'VERSION', 'SLOT', 'STATUS', 'REASON'], rows));
    return 0;
  }
}
