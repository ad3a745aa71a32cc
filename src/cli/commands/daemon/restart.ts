import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { DaemonCell } from '../../../host/system/daemon-cell';
import { DaemonUnit } from '../../../host/system/daemon-unit';
import { BaseCommand } from '../../base-command';
import { waitForDaemon } from '../../../host/install/wait-daemon';
import { refuseOtherDaemon } from '../../daemon-ping';

export class DaemonRestartCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['daemon', 'restart']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    examples: [['Restart kukeond', '$0 daemon restart']],
    description: 'Stop the kukeond cell, start it again and wait until the daemon answers',
    details:
      "Runs in-process with the host configuration; `--timeout` is the stop's grace period. Where kuke init --systemd installed kukeond.service, restarts that unit with systemctl instead.",
  });

  timeout = Option.String('--timeout', '10', { validator: t.isNumber(), description: 'Seconds before SIGKILL (default 10)' });
  noWait = Option.Boolean('--no-wait', false, { description: 'Do not wait for the daemon to answer' });
  waitTimeout = Option.String('--wait-timeout', '30', { validator: t.isNumber(), description: 'Seconds to wait for it (default 30)' });

  protected async run(): Promise<number> {
    const unit = new DaemonUnit();
    if (unit.installed()) {
      unit.restart();
      this.out('kukeond.service restarted\n');
    } else {
      const cell = new DaemonCell(await this.host());
      await cell.stop(Math.round(this.timeout * 1000), this.call());
      await refuseOtherDaemon(this.socketPath());
      const { state } = await cell.start(this.call());
      this.out(`kukeond restarted${state.pid ? ` (pid ${state.pid})` : ''}\n`);
    }
    if (this.noWait) return 0;
    const version = await waitForDaemon(this.socketPath(), Math.round(this.waitTimeout * 1000), this.call().signal);
    this.out(`kukeond answers on ${this.socketPath()} (v${version})\n`);
    return 0;
  }
}
