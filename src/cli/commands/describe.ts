import { Command, Option } from 'clipanion';
import { KukeonError } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { parseKind } from '../kinds';
import { describeText } from '../output/describe-text';
import { refIn } from '../scope';

export class DescribeCommand extends BaseCommand {
  static override paths = [['describe']];
  static override usage = Command.Usage({
    category: 'Resources',
    description: 'Show one resource: its spec, live status, containers and the last events that touched it',
    details:
      'Kinds as for `get`. Events (created, started, stopped, exited with code, restarted, back-off, OOM-killed, network attached, failed) are kept by kukeond in memory: the last 50 per resource, for the 1000 resources touched most recently, since the daemon started. In-process (--no-daemon, --run-path) there is no history to show.',
    examples: [
      ['A cell with its containers and events', '$0 describe cell web --realm main --space blog --stack wp'],
      ['One container', '$0 describe container nginx --cell web'],
    ],
  });

  kind = Option.String({ required: true });
  name = Option.String({ required: true });
  output = Option.String('-o,--output', { description: 'text (default)|json|yaml' });
  realm = Option.String('--realm', { description: 'Realm (default: default)' });
  space = Option.String('--space', { description: 'Space (default: default)' });
  stack = Option.String('--stack', { description: 'Stack (default: default)' });
  cell = Option.String('--cell', { description: 'For a container: its cell' });
  noDaemon = Option.Boolean('--no-daemon', false, { description: 'Run in-process (no events: only the daemon keeps them)' });

  protected override noDaemonFlag(): boolean {
    return this.noDaemon;
  }

  protected async run(): Promise<number> {
    const format = this.output ?? 'text';
    if (!['text', 'json', 'yaml'].includes(format)) throw new KukeonError('KUKEON_E_USAGE', '-o must be one of text, json, yaml');
    const kind = parseKind(this.kind);
    const ref = refIn(kind, this.name, { realm: this.realm, space: this.space, stack: this.stack, cell: this.cell });
    const result = await (await this.api()).describe({ ref }, this.call());
    if (format === 'json') this.out(`${JSON.stringify(result, null, 2)}\n`);
    else if (format === 'yaml') this.out((require('yaml') as typeof import('yaml')).stringify(result));
    else this.out(describeText(result));
    return 0;
  }
}
