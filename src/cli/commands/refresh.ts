import { Command } from 'clipanion';
import { BaseCommand } from '../base-command';

export class RefreshCommand extends BaseCommand {
  static override paths = [['refresh']];
  static override usage = Command.Usage({
    category: 'Cells',
    examples: [['Write what the backends see into the YAML state', '$0 refresh']],
    description: "Write every resource's live status from the backends into the state",
  });

  protected async run(): Promise<number> {
    const r = await (await this.api()).refresh(this.call());
    this.out(`Inspected ${r.inspected} resource(s). Updated ${r.updated}.\n`);
    return 0;
  }
}
