import { Command, Option } from 'clipanion';
import { KukeonError, formatRef, isKukeonError } from '../../../sdk';
import type { Ref, RemovedItem, ScopedRef } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { forceSystemOption } from '../force-system';
import { isVolumeKind, parseKind } from '../kinds';
import { refIn, scopedScope } from '../scope';
import { checkName } from '../../host/validation/names';
import { isSecretKind, secretRefIn } from '../secret-kind';

export class DeleteCommand extends BaseCommand {
  static override paths = [['delete'], ['d']];
  static override usage = Command.Usage({
    category: 'Resources',
    description: 'Delete a resource, or the documents of a manifest',
    details:
      'A realm, space or stack with children (or volumes) is refused unless `--cascade`; a cascade deletes its volumes as their reclaimPolicy says (Retain keeps the data and prints where). A cell takes its containers with it. `--force` kills containers at once and goes on past backend errors, but never orphans children.',
    examples: [
      ['A realm and everything in it', '$0 delete realm main --cascade'],
      ['What a manifest created', '$0 delete -f cells.yaml'],
      ['A named volume of a space (refused while a cell mounts it)', '$0 delete volume pgdata --realm main --space db'],
      ['A secret of a stack', '$0 delete secret db-password --realm main --space blog --stack wp'],
    ],
  });

  kind = Option.String({ required: false });
  name = Option.String({ required: false });
  file = Option.String('-f,--file', { description: 'Delete the documents of this manifest (- for stdin)' });
  cascade = Option.Boolean('--cascade', false, { description: 'Delete children too' });
  force = Option.Boolean('--force', false, { description: 'Kill containers at once (no grace period) and continue past backend errors' });
  realm = Option.String('--realm', { description: 'Realm (default: default)' });
  space = Option.String('--space', { description: 'Space (default: default)' });
  stack = Option.String('--stack', { description: 'Stack (default: default)' });
  cell = Option.String('--cell', { description: 'For a secret: the cell whose secret it is' });
  output = Option.String('-o,--output', { description: "json: print what was removed as data, with each removal's commit order" });
  forceSystem = forceSystemOption();

  protected async run(): Promise<number> {
    const api = await this.api();
    if (this.file !== undefined) {
      if (this.kind !== undefined) throw new KukeonError('KUKEON_E_USAGE', 'use either -f FILE or KIND NAME');
      const text = await this.readInput(this.file);
      const items = await api.deleteDocuments(
        { text, cascade: this.cascade, force: this.force, source: this.file, forceSystem: this.forceSystem },
        this.call(),
      );
      let failed = false;
      for (const i of items) {
        if (i.error) {
          failed = true;
          this.err(`Error: ${i.error}\n`);
        } else this.report(formatRef(i.ref), i.warnings, i.kept);
      }
      return failed ? 1 : 0;
    }
    if (this.kind === undefined || this.name === undefined)
      throw new KukeonError('KUKEON_E_USAGE', 'usage: kuke delete KIND NAME [--cascade] [--force], or kuke delete -f FILE');
    if (this.output !== undefined && this.output !== 'json') throw new KukeonError('KUKEON_E_USAGE', '-o takes json');
    const secret = isSecretKind(this.kind);
    const flags = { realm: this.realm, space: this.space, stack: this.stack, cell: this.cell };
    if (!secret && this.cell !== undefined) throw new KukeonError('KUKEON_E_USAGE', '--cell is for secrets');
    const ref: Ref | ScopedRef = secret
      ? secretRefIn(this.name, flags)
      : isVolumeKind(this.kind)
        ? { kind: 'Volume', path: [...scopedScope(flags), checkName(this.name, 'volume name')] }
        : refIn(parseKind(this.kind, ['Realm', 'Space', 'Stack', 'Cell']), this.name, flags);
    let removed: RemovedItem[];
    try {
      removed =
        ref.kind === 'Secret'
          ? await api.deleteSecret({ ref, forceSystem: this.forceSystem }, this.call())
          : await api.delete({ ref, cascade: this.cascade, force: this.force, forceSystem: this.forceSystem }, this.call());
    } catch (err) {
      // As data too: a cascade that failed midway names what it had removed (details.removed).
      if (this.output === 'json' && isKukeonError(err)) {
        const error = { code: err.code, message: err.message };
        this.out(`${JSON.stringify({ items: err.details.removed ?? [], error }, null, 2)}\n`);
      }
      throw err;
    }
    if (this.output === 'json') {
      const items = removed.map((i) => ({ ...i, ref: formatRef(i.ref) }));
      this.out(`${JSON.stringify({ items }, null, 2)}\n`);
      return 0;
    }
    for (const i of removed) this.report(formatRef(i.ref), i.warnings, i.kept);
    return 0;
  }

  private report(ref: string, warnings: string[], kept?: string): void {
    // a Retain volume: the data stayed, and where it is matters
    this.out(`${ref} deleted${kept ? ` (reclaimPolicy Retain: data kept at ${kept})` : ''}\n`);
    for (const w of warnings) this.err(`Warning: ${w}\n`);
  }
}
