import { Command, Option } from 'clipanion';
import { KukeonError, formatRef } from '../../../sdk';
import type { WatchEvent } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { parseKind } from '../kinds';
import { checkName } from '../../host/validation/names';

export class EventsCommand extends BaseCommand {
  static override paths = [['events']];
  static override usage = Command.Usage({
    category: 'Cells',
    description: 'Stream resource changes and container exits as they happen (through kukeond), until Ctrl-C',
    details:
      'Each line: time, type (ADDED, MODIFIED, DELETED, EXIT), the resource, and its state or exit code. The daemon sees every change made through it; it needs kukeond (in-process there is no one watching).',
    examples: [
      ['Everything', '$0 events'],
      ['Cells of one realm, as JSON lines', '$0 events --realm main --kind cell -o json'],
    ],
  });

  realm = Option.String('--realm', { description: 'Only this realm' });
  kind = Option.Array('--kind', { description: 'Only these kinds (repeatable)' });
  output = Option.String('-o,--output', { description: 'text|json (one JSON object per line)' });

  protected async run(): Promise<number> {
    if (this.route().mode === 'in-process')
      throw new KukeonError('KUKEON_E_USAGE', 'kuke events needs kukeond (drop --no-daemon/--run-path)');
    const kinds = this.kind?.map((k) => parseKind(k));
    const scope = this.realm !== undefined ? [checkName(this.realm, '--realm')] : undefined;
    const call = this.call();
    try {
      for await (const e of (await this.api()).watch({ kinds, scope }, call))
        this.out(this.output === 'json' ? `${JSON.stringify(e)}\n` : `${line(e)}\n`);
    } catch (err) {
      if (call.signal?.aborted) return 0; // Ctrl-C is how a watch ends
      throw err;
    }
    return 0;
  }
}

function line(e: WatchEvent): string {
  if (e.type === 'EXIT') return `${e.time} EXIT ${formatRef(e.ref)} exitCode=${e.exitCode}`;
  const state = e.doc?.status?.state;
  return `${e.time} ${e.type} ${formatRef(e.ref)}${state ? ` ${state}` : ''}`;
}
