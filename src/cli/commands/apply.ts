import { Command, Option } from 'clipanion';
import { formatRef } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { forceSystemOption } from '../force-system';
import { ApplyProgressView } from '../output/apply-progress';
import { applyItemText } from '../output/apply-item-text';
import { terminalAbilities } from '../output/terminal';
import type { TerminalStream } from '../output/terminal';

export class ApplyCommand extends BaseCommand {
  static override paths = [['apply']];
  static override usage = Command.Usage({
    category: 'Resources',
    description: 'Create or update resources from a multi-document YAML manifest',
    details:
      'Every document is validated before anything is written. Missing parents (realm, space, stack) are created. Prints `<kind>/<path> created|updated|unchanged|failed`; on a terminal each line shows what its resource is doing (pulling, creating, starting) until it settles to that.',
    examples: [
      ['Apply a manifest', '$0 apply -f cells.yaml'],
      ['Show what would change', '$0 apply -f cells.yaml --dry-run'],
    ],
  });

  file = Option.String('-f,--file', { required: true, description: 'Manifest file, or - for stdin' });
  dryRun = Option.Boolean('--dry-run', false, { description: 'Print what each plugin would change; write nothing' });
  pull = Option.String('--pull', {
    description: "missing|never|always: when to pull a container's image (default missing; env KUKEON_PULL)",
  });
  output = Option.String('-o,--output', { description: 'yaml|json: print the result as data' });
  forceSystem = forceSystemOption();

  protected async run(): Promise<number> {
    const text = await this.readInput(this.file);
    const api = await this.api();
    const view = this.progressView();
    const report = await api
      .apply(
        {
          text,
          dryRun: this.dryRun,
          source: this.file === '-' ? 'stdin' : this.file,
          pull: this.pullPolicy(this.pull),
          credentials: this.credentials(),
          forceSystem: this.forceSystem,
        },
        this.call({ onProgress: view?.onProgress }),
      )
      .catch((err) => {
        view?.abandon();
        throw err;
      });
    if (this.output === 'json' || this.output === 'yaml') {
      const data = {
        items: report.items.map((i) => ({ ...i, ref: formatRef(i.ref) })),
        plan: report.plan?.map((p) => ({ ...p, ref: formatRef(p.ref) })),
      };
      this.out(this.output === 'json' ? `${JSON.stringify(data, null, 2)}\n` : (require('yaml') as typeof import('yaml')).stringify(data));
    } else if (report.plan) {
      for (const p of report.plan)
        this.out(`${formatRef(p.ref)} ${p.action}${p.by === 'kukeon' ? '' : ` (${p.by})`}${p.detail ? `: ${p.detail}` : ''}\n`);
      this.out('dry run: nothing was written\n');
    } else if (view) view.finish(report.items);
    else {
      for (const i of report.items) {
        const text = applyItemText(i);
        this.out(text.out);
        if (text.err) this.err(text.err);
      }
    }
    return report.items.some((i) => i.action === 'failed') ? 1 : 0;
  }

  /** Lines that settle in place, on a terminal that can redraw them; none for data output, a dry run or -v's trace. */
  private progressView(): ApplyProgressView | undefined {
    const stdout = this.context.stdout as unknown as TerminalStream;
    const can = terminalAbilities(stdout);
    if (!can.redraw || this.output || this.dryRun || this.verbose || process.env.DEBUG) return undefined;
    return new ApplyProgressView(stdout, this.context.stderr as unknown as TerminalStream, { color: can.color, tickMs: 100 });
  }
}
