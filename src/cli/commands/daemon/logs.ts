import { Command, Option } from 'clipanion';
import { spawn } from 'node:child_process';
import { DaemonCell } from '../../../host/system/daemon-cell';
import { DaemonUnit } from '../../../host/system/daemon-unit';
import { BaseCommand } from '../../base-command';

export class DaemonLogsCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [
    ['daemon', 'logs'],
    ['daemon', 'log'],
  ];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    examples: [["Follow kukeond's log", '$0 daemon logs -f']],
    description: "Print kukeond's log (its container's stdout and stderr)",
    details:
      "`-f` follows until kukeond exits or Ctrl-C. Where kuke init --systemd installed kukeond.service, its log is the unit's journal (journalctl -u kukeond.service).",
  });

  follow = Option.Boolean('-f,--follow', false, { description: 'Keep printing as the log grows' });

  protected async run(): Promise<number> {
    const unit = new DaemonUnit();
    if (unit.installed()) {
      const journal = spawn('journalctl', unit.journalArgs(this.follow), { stdio: ['ignore', 'pipe', 'inherit'] });
      journal.stdout.pipe(this.context.stdout, { end: false });
      return await new Promise<number>((resolve, reject) => {
        journal.on('error', reject);
        journal.on('close', (code) => resolve(code ?? 1));
      });
    }
    for await (const chunk of new DaemonCell(await this.host()).logs(this.follow, this.call())) this.context.stdout.write(chunk);
    return 0;
  }
}
