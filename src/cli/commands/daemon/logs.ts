import { Command, Option } from 'clipanion';
import { DaemonCell } from '../../../host/system/daemon-cell';
import { BaseCommand } from '../../base-command';

export class DaemonLogsCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [
    ['daemon', 'logs'],
    ['daemon', 'log'],
  ];
  static override usage = Command.Usage({
    description: "Print kukeond's log (its container's stdout and stderr)",
    details: '`-f` follows until kukeond exits or Ctrl-C.',
  });

  follow = Option.Boolean('-f,--follow', false);

  protected async run(): Promise<number> {
    for await (const chunk of new DaemonCell(await this.host()).logs(this.follow, this.call())) this.context.stdout.write(chunk);
    return 0;
  }
}
