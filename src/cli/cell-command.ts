import { Option } from 'clipanion';
import type { Ref } from '../../sdk';
import { BaseCommand } from './base-command';
import { refIn } from './scope';

/** A command about one cell: `kuke VERB NAME [--realm R --space S --stack T]`. */
export abstract class CellCommand extends BaseCommand {
  name = Option.String({ required: true });
  realm = Option.String('--realm', { description: 'Realm (default: default)' });
  space = Option.String('--space', { description: 'Space (default: default)' });
  stack = Option.String('--stack', { description: 'Stack (default: default)' });

  /** The cell's ref; its names are validated before any path is built. */
  protected cellRef(): Ref {
    return refIn('Cell', this.name, { realm: this.realm, space: this.space, stack: this.stack });
  }
}
