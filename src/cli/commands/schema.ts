import { Command, Option } from 'clipanion';
import { KINDS } from '../../../sdk';
import { SCHEMAS, VOLUME_SCHEMA } from '../../host/validation/schemas';
import { BaseCommand } from '../base-command';
import { isVolumeKind, parseKind } from '../kinds';
import { SECRET_SCHEMA } from '../../host/secrets/secret-schema';
import { isSecretKind } from '../secret-kind';

export class SchemaCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['schema']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    description: 'Print the JSON Schema of a kind, for editors',
    examples: [['The Cell schema', '$0 schema cell > cell.schema.json']],
  });

  kind = Option.String({ required: false });

  protected async run(): Promise<number> {
    if (this.kind === undefined) {
      this.out(`${[...KINDS, 'Volume', 'Secret'].map((k) => k.toLowerCase()).join('\n')}\n`);
      return 0;
    }
    if (isSecretKind(this.kind)) {
      this.out(`${JSON.stringify(SECRET_SCHEMA, null, 2)}\n`);
      return 0;
    }
    const schema = isVolumeKind(this.kind) ? VOLUME_SCHEMA : SCHEMAS[parseKind(this.kind)];
    this.out(`${JSON.stringify(schema, null, 2)}\n`);
    return 0;
  }
}
