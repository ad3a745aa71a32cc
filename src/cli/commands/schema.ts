import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'clipanion';
import { KukeonError } from '../../../sdk';
import { KIND_SCHEMAS, schemaFileName, schemaText } from '../../host/validation/kind-schemas';
import { BaseCommand } from '../base-command';
import { schemaKindList, schemaKindOf } from '../schema-kind';

export class SchemaCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['schema']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    description: 'Print the JSON Schema of a kind, for editors',
    details:
      'Without a kind, lists the kinds. With --out DIR the schema goes to DIR/<kind>.json instead (--all: every kind), ' +
      'each file self-contained (no external $ref), as the package ships them under schemas/v1beta1/.',
    examples: [
      ['The Cell schema', '$0 schema cell > cell.schema.json'],
      ["Every kind's schema as files", '$0 schema --all --out ./schemas'],
    ],
  });

  all = Option.Boolean('--all', false, { description: 'Every kind (with --out)' });
  outDir = Option.String('--out', { description: 'Write <DIR>/<kind>.json files instead of printing' });
  kind = Option.String({ required: false });

  protected async run(): Promise<number> {
    if (this.all && this.kind !== undefined) throw new KukeonError('KUKEON_E_USAGE', 'schema: give a kind or --all, not both');
    if (this.all && this.outDir === undefined) throw new KukeonError('KUKEON_E_USAGE', 'schema --all needs --out DIR (one file per kind)');
    if (!this.all && this.kind === undefined) {
      if (this.outDir !== undefined) throw new KukeonError('KUKEON_E_USAGE', 'schema --out needs a kind or --all');
      this.out(`${Object.keys(KIND_SCHEMAS).join('\n')}\n`);
      return 0;
    }
    const one = this.kind === undefined ? undefined : schemaKindOf(this.kind);
    if (this.kind !== undefined && one === undefined)
      throw new KukeonError('KUKEON_E_USAGE', `unknown kind "${this.kind}" (expected one of: ${schemaKindList()})`);
    const kinds = this.all ? Object.keys(KIND_SCHEMAS) : [one!];
    if (this.outDir === undefined) {
      this.out(schemaText(KIND_SCHEMAS[kinds[0]]));
      return 0;
    }
    fs.mkdirSync(this.outDir, { recursive: true });
    for (const kind of kinds) {
      const file = path.join(this.outDir, schemaFileName(kind));
      fs.writeFileSync(file, schemaText(KIND_SCHEMAS[kind]));
      this.out(`${file}\n`);
    }
    return 0;
  }
}
