import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { DaemonCell } from '../../../host/system/daemon-cell';
import { DaemonUnit } from '../../../host/system/daemon-unit';
import { BaseCommand } from '../../base-command';

export class DaemonStopCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['daemon', 'stop']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    examples: [['Stop kukeond', '$0 daemon stop']],
    description: 'Stop the kukeond cell: SIGTERM to kukeond, SIGKILL after the timeout',
    details:
      "Runs in-process with the host configuration. Cells keep running: they do not depend on the daemon's process. Where kuke init --systemd installed kukeond.service, stops that unit with systemctl instead (systemd's stop timeout applies).",
  });

  timeout = Option.String('--timeout', '10', { validator: t.isNumber(), description: 'Seconds before SIGKILL (default 10)' });

  protected async run(): Promise<number> {
    const unit = new DaemonUnit();
    if (unit.installed()) {
      this.out(unit.stop() ? 'kukeond.service stopped\n' : 'kukeond.service was not running\n');
      return 0;
    }
    const { wasRunning } = await new DaemonCell(await this.host()).stop(Math.round(this.timeout * 1000), this.call());
    this.out(wasRunning ? 'kukeond stopped\n' : 'kukeond was not running\n');
    return 0;
  }
}
