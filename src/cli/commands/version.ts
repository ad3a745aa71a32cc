import { Command, Option } from 'clipanion';
import { VERSION } from '../../host/version';
import { BaseCommand } from '../base-command';

export class VersionCommand extends BaseCommand {
  static override paths = [['version'], ['--version']];
  static override usage = Command.Usage({ description: 'Print the client version (the daemon is not built yet)' });

  noDaemon = Option.Boolean('--no-daemon', false);

  protected override noDaemonFlag(): boolean {
    return this.noDaemon;
  }

  protected async run(): Promise<number> {
    this.out(`Client: v${VERSION}\n`);
    return 0;
  }
}
