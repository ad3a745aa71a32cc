import { Command, Option } from 'clipanion';
import { hostStatus } from '../../host/status/host-status';
import { BaseCommand } from '../base-command';
import { pingDaemon } from '../../host/install/wait-daemon';
import { renderTable } from '../output/table';

export class StatusCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['status']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    examples: [['Is the host set up and kukeond serving?', '$0 status']],
    description: 'Check the daemon, containerd, cgroups, CNI and the parity of the YAML with containerd: OK, WARN or FAIL',
    details:
      "Runs in-process with the host configuration and pings the daemon. Parity: every Ready cell's tasks run and every task in kukeon's namespaces has its YAML. Exits 1 on any FAIL.",
  });

  json = Option.Boolean('--json', false, { description: 'Print the report as JSON' });

  protected async run(): Promise<number> {
    const probe = await pingDaemon(this.socketPath());
    const report = await hostStatus(await this.host(), probe);
    if (this.json) {
      this.out(`${JSON.stringify(report, null, 2)}\n`);
      return report.ok ? 0 : 1;
    }
    const rows = report.lines.map((l) => [l.status, l.section, l.check, l.detail + (l.remedy ? ` (fix: ${l.remedy})` : '')]);
    this.out(renderTable(['STATUS', 'SECTION', 'CHECK', 'DETAIL'], rows));
    const count = (s: string) => report.lines.filter((l) => l.status === s).length;
    this.out(`\n${report.ok ? 'ok' : 'FAIL'}: ${count('OK')} ok, ${count('WARN')} warn, ${count('FAIL')} fail\n`);
    return report.ok ? 0 : 1;
  }
}
