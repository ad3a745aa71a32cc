import { Command, Option } from 'clipanion';
import { BaseCommand } from '../base-command';
import { renderTable } from '../output/table';

export class DoctorCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['doctor']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    examples: [['Check the host: containerd, runc, CNI, cgroups', '$0 doctor']],
    description: "Check the host: each plugin's status and every diagnose service's findings",
    details: 'Exits 1 when a plugin or a finding reports an error.',
  });

  output = Option.String('-o,--output', { description: 'table|json' });

  protected async run(): Promise<number> {
    const report = await (await this.host()).api.doctor();
    if (this.output === 'json') {
      this.out(`${JSON.stringify(report, null, 2)}\n`);
      return report.ok ? 0 : 1;
    }
    this.out('Plugins:\n');
    this.out(
      renderTable(
        ['NAME', 'SLOT', 'STATUS', 'REASON'],
        report.plugins.map((p) => [p.name, p.slot ?? '-', p.state, p.reason ?? '']),
      ),
    );
    this.out('\nChecks:\n');
    const rows = report.findings.map((f) => [f.service, f.check, f.status, f.detail + (f.remedy ? ` (fix: ${f.remedy})` : '')]);
    this.out(rows.length ? renderTable(['SERVICE', 'CHECK', 'STATUS', 'DETAIL'], rows) : '(no diagnose services loaded)\n');
    this.out(`\n${report.ok ? 'ok' : 'problems found'}\n`);
    return report.ok ? 0 : 1;
  }
}
