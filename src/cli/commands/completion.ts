import { Command, Option } from 'clipanion';
import { BaseCommand } from '../base-command';
import { KukeonError } from '../../../sdk';
import { bashCompletionScript } from '../completion/bash-script';

export class CompletionCommand extends BaseCommand {
  static override paths = [['completion']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    description: "Print the shell's completion script for kuke (bash)",
    details:
      'Verbs, sub-verbs and options complete from the commands themselves; kinds after get, describe, delete, purge and explain; realm names after --realm.',
    examples: [
      ['Try it in this shell', 'source <($0 completion bash)'],
      ['Install it for everyone', '$0 completion bash > /usr/share/bash-completion/completions/kuke'],
    ],
  });

  protected static override readonly inProcessOnly = true;

  shell = Option.String({ required: true, name: 'shell' });

  protected async run(): Promise<number> {
    if (this.shell !== 'bash') throw new KukeonError('KUKEON_E_USAGE', `completion: shell "${this.shell}" is not supported (bash is)`);
    // every command, not only the ones this argv named (see COMMAND_MODULES)
    const { buildCli } = require('../index') as typeof import('../index');
    this.out(bashCompletionScript(buildCli().definitions()));
    return 0;
  }
}
