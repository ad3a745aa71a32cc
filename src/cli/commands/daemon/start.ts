import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { DaemonCell } from '../../../host/system/daemon-cell';
import { DaemonUnit } from '../../../host/system/daemon-unit';
import { BaseCommand } from '../../base-command';
import { waitForDaemon } from '../../../host/install/wait-daemon';
import { refuseOtherDaemon } from '../../daemon-ping';

export class DaemonStartCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['daemon', 'start']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    examples: [['Start kukeond (as the system cell, or its systemd unit)', '$0 daemon start']],
    description: 'Start the kukeond cell (kukeon-system/kukeon/kukeon/kukeond) and wait until the daemon answers',
    details:
      'Runs in-process with the host configuration (the daemon may be down). What a crash of kukeond left behind is cleared first. Where kuke init --systemd installed kukeond.service, starts that unit with systemctl instead. Without --no-wait, exits 1 when the daemon does not answer on the socket in time.',
  });

  noWait = Option.Boolean('--no-wait', false, { description: 'Do not wait for the daemon to answer' });
  waitTimeout = Option.String('--wait-timeout', '30', { validator: t.isNumber(), description: 'Seconds to wait for it (default 30)' });

  protected async run(): Promise<number> {
    const unit = new DaemonUnit();
    if (unit.installed()) {
      this.out(unit.start() ? 'kukeond.service started\n' : 'kukeond.service is already running\n');
    } else {
      const cell = new DaemonCell(await this.host());
      if (!cell.running(await cell.state())) await refuseOtherDaemon(this.socketPath());
      const { started, state } = await cell.start(this.call());
      this.out(
        started ? `kukeond started${state.pid ? ` (pid ${state.pid})` : ''}\n` : `kukeond is already running (pid ${state.pid ?? '?'})\n`,
      );
    }
    if (this.noWait) return 0;
    const version = await waitForDaemon(this.socketPath(), Math.round(this.waitTimeout * 1000), this.call().signal);
    this.out(`kukeond answers on ${this.socketPath()} (v${version})\n`);
    return 0;
  }
}
