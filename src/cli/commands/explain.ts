import { Command, Option } from 'clipanion';
import { API_VERSION, KukeonError } from '../../../sdk';
import { KIND_SCHEMAS } from '../../host/validation/kind-schemas';
import { resolveSchemaField } from '../../host/validation/schema-fields';
import { BaseCommand } from '../base-command';
import { explainText } from '../output/explain-text';
import { schemaKindList, schemaKindOf } from '../schema-kind';

export class ExplainCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['explain']];
  static override usage = Command.Usage({
    category: 'Resources',
    description: "Describe a kind's fields from its JSON Schema, as kubectl explain does",
    details:
      'Prints the type and description of a kind or of one of its fields (a dotted path through objects and lists), then its fields. ' +
      'Kinds: realm, space, stack, cell, container, volume, secret (and their aliases).',
    examples: [
      ['The fields of a cell', '$0 explain cell'],
      ["A container's volumes", '$0 explain cell.spec.containers.volumes'],
      ['Every field of a Volume, indented', '$0 explain volume --recursive'],
    ],
  });

  recursive = Option.Boolean('--recursive', false, { description: 'Print every field below, indented, without descriptions' });
  field = Option.String({ required: true, name: 'kind[.field...]' });

  protected async run(): Promise<number> {
    const [kindText, ...path] = this.field.split('.');
    const kind = schemaKindOf(kindText);
    if (kind === undefined) throw new KukeonError('KUKEON_E_UNKNOWN_KIND', `unknown kind "${kindText}" (kinds: ${schemaKindList()})`);
    const root = KIND_SCHEMAS[kind];
    const schema = resolveSchemaField(root, kind, path);
    const kindName = (root.properties as Record<string, { const: string }>).kind.const;
    this.out(explainText({ kind: kindName, version: API_VERSION, path, schema }, this.recursive));
    return 0;
  }
}
