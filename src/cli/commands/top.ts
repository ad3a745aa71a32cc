import { Command, Option } from 'clipanion';
import type { AnyDoc, CellDoc } from '../../../sdk';
import { KukeonError } from '../../../sdk';
import { checkName } from '../../host/validation/names';
import { BaseCommand } from '../base-command';
import { bytes } from '../output/columns';
import { renderTable } from '../output/table';
import { type UsageRow, type UsageSample, takeSample, usageRows } from '../output/usage-sample';

export class TopCommand extends BaseCommand {
  static override paths = [['top']];
  static override usage = Command.Usage({
    category: 'Cells',
    description: 'Live CPU, memory and pids of cells and their containers, and each cell network I/O (like docker stats)',
    details:
      "CPU % is the cgroup's CPU time over the interval (100% = one CPU); memory and pids are the cgroup's current values; " +
      "NET I/O is what the cell's interfaces (not lo) received and sent, from its network namespace. On a terminal it refreshes in place " +
      'every --interval seconds until Ctrl-C; piped, with --no-stream or with -o json it prints one snapshot.',
    examples: [
      ['Every cell of the host, refreshing', '$0 top'],
      ['Two cells, once, as JSON', '$0 top web db --realm main --no-stream -o json'],
    ],
  });

  cells = Option.Rest({ name: 'cell' });
  realm = Option.String('--realm', { description: 'Only this realm' });
  space = Option.String('--space', { description: 'Only this space (with --realm)' });
  stack = Option.String('--stack', { description: 'Only this stack (with --realm and --space)' });
  noStream = Option.Boolean('--no-stream', false, { description: 'Print one snapshot and exit' });
  output = Option.String('-o,--output', { description: 'table|json' });
  interval = Option.String('--interval', '1', { description: 'Seconds between samples (default 1)' });
  noDaemon = Option.Boolean('--no-daemon', false, { description: 'Run in-process' });

  protected override noDaemonFlag(): boolean {
    return this.noDaemon;
  }

  protected async run(): Promise<number> {
    for (const [v, what] of [
      [this.realm, 'realm name'],
      [this.space, 'space name'],
      [this.stack, 'stack name'],
      ...this.cells.map((c) => [c, 'cell name']),
    ] as const)
      if (v !== undefined) checkName(v, what);
    if (this.output !== undefined && this.output !== 'table' && this.output !== 'json')
      throw new KukeonError('KUKEON_E_USAGE', `-o ${this.output}: top prints table or json`);
    const seconds = Number(this.interval);
    if (!(seconds >= 0.1 && seconds <= 3600))
      throw new KukeonError('KUKEON_E_USAGE', `--interval ${this.interval}: give seconds between 0.1 and 3600`);
    const api = await this.api();
    const call = this.call();
    const wanted = (d: AnyDoc, name: string) => {
      const s = d.spec as { realmId?: string; spaceId?: string; stackId?: string };
      return (
        (this.realm === undefined || s.realmId === this.realm) &&
        (this.space === undefined || s.spaceId === this.space) &&
        (this.stack === undefined || s.stackId === this.stack) &&
        (this.cells.length === 0 || this.cells.includes(name))
      );
    };
    const sample = async (): Promise<{ cells: CellDoc[]; at: UsageSample }> => {
      const [cells, containers] = await Promise.all([
        api.get({ kind: 'Cell', scope: [], allRealms: true }, call),
        api.get({ kind: 'Container', scope: [], allRealms: true }, call),
      ]);
      const mine = (cells as CellDoc[]).filter((c) => wanted(c, c.metadata.name));
      const theirs = containers.filter((d) => wanted(d, (d.spec as { cellId?: string }).cellId ?? ''));
      return { cells: mine, at: takeSample(mine, theirs) };
    };
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        call.signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    const live = !this.noStream && this.output !== 'json' && (this.context.stdout as { isTTY?: boolean }).isTTY === true;
    let before = (await sample()).at;
    do {
      await sleep(seconds * 1000);
      if (call.signal?.aborted) break;
      const now = await sample();
      const rows = usageRows(now.cells, before, now.at);
      before = now.at;
      if (this.output === 'json') this.out(`${JSON.stringify({ items: rows }, null, 2)}\n`);
      else this.out(`${live ? '\x1b[H\x1b[2J' : ''}${this.table(rows)}`);
    } while (live);
    return 0;
  }

  private table(rows: UsageRow[]): string {
    if (!rows.length) return 'No cells.\n';
    const pct = (n: number | undefined) => (n === undefined ? '-' : `${n.toFixed(1)}%`);
    return renderTable(
      ['CELL', 'CONTAINER', 'STATE', 'CPU %', 'MEM', 'PIDS', 'NET I/O', 'NET RATE'],
      rows.map((r) => [
        r.container ? '' : r.cell,
        r.container ?? '',
        r.state,
        pct(r.cpuPercent),
        bytes(r.memoryBytes),
        r.pids === undefined ? '-' : String(r.pids),
        r.container ? '' : r.netRxBytes === undefined ? '-' : `${bytes(r.netRxBytes)} / ${bytes(r.netTxBytes)}`,
        r.container
          ? ''
          : r.netRxRate === undefined
            ? '-'
            : `${bytes(Math.round(r.netRxRate))}/s / ${bytes(Math.round(r.netTxRate ?? 0))}/s`,
      ]),
    );
  }
}
