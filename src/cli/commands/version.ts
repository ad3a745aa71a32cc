import { Command, Option } from 'clipanion';
import { VERSION } from '../../host/version';
import { BaseCommand } from '../base-command';

export class VersionCommand extends BaseCommand {
  static override paths = [['version'], ['--version']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    description: "Print the client's version and the daemon's (or that the daemon is unreachable)",
    details: 'Exits 0 whether or not kukeond answers; a client and daemon of different versions get a warning on stderr.',
    examples: [
      ['Both versions', '$0 version'],
      ['Only the client', '$0 version --client'],
    ],
  });
  protected static override readonly inProcessOnly = true;

  clientOnly = Option.Boolean('--client', false, { description: 'Print only the client version (no daemon ping)' });
  noDaemon = Option.Boolean('--no-daemon', false, { description: 'Same as --client' });

  protected async run(): Promise<number> {
    this.out(`Client: v${VERSION}\n`);
    if (this.clientOnly || this.noDaemon) return 0;
    const socket = this.socketPath();
    try {
      const { SocketClient } = require('../../../plugins/api-socket/client') as typeof import('../../../plugins/api-socket/client');
      const client = new SocketClient(socket);
      try {
        const daemon = await client.version(this.call());
        this.out(`Daemon: v${daemon.version}\n`);
        if (daemon.version !== VERSION)
          this.err(`Warning: client v${VERSION} and daemon v${daemon.version} differ; restart kukeond after an upgrade\n`);
      } finally {
        client.close();
      }
    } catch {
      this.out(`Daemon: unreachable (${socket})\n`);
    }
    return 0;
  }
}
