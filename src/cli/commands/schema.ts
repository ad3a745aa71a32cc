import { Command, Option } from 'clipanion';
import { KINDS } from '../../../sdk';
import { SCHEMAS } from '../../host/validation/schemas';
import { BaseCommand } from '../base-command';
import { parseKind } from '../kinds';
import { SECRET_SCHEMA } from '../../host/secrets/secret-schema';
import { isSecretKind } from '../secret-kind';

export class SchemaCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['schema']];
  static override usage = Command.Usage({
    description: 'Print the JSON Schema of a kind, for editors',
    examples: [['The Cell schema', '$0 schema cell > cell.schema.json']],
  });

  kind = Option.String({ required: false });

  protected async run(): Promise<number> {
    if (this.kind === undefined) {
      this.out(`${[...KINDS, 'Secret'].map((k) => k.toLowerCase()).join('\n')}\n`);
      return 0;
    }
    if (isSecretKind(this.kind)) {
      this.out(`${JSON.stringify(SECRET_SCHEMA, null, 2)}\n`);
      return 0;
    }
    this.out(`${JSON.stringify(SCHEMAS[parseKind(this.kind)], null, 2)}\n`);
    return 0;
  }
}
