import { Command, Option } from 'clipanion';
import { BaseCommand } from '../base-command';

export class UninstallCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['uninstall']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    examples: [['Take the host down without asking', '$0 uninstall --yes']],
    description: 'Take kukeon off this host: kukeond, every realm (purged), the managed containerd, its paths and the group (root)',
    details:
      "Asks first unless -y. Stops kukeond, purges every realm with cascade (the system realm last), stops a kukeon-managed containerd and removes its config, then the run path, the socket directory, the cgroup root, kukeon's conflists and the group. Anything that could not be removed is listed and the command exits 1.",
  });

  unitDir = Option.String('--unit-dir', {
    description: 'Where kukeond.service (--systemd) and kukeon-containerd.service go (default /etc/systemd/system)',
  });
  group = Option.String('--group', { description: 'The socket group init made (default kukeon; env KUKEON_SOCKET_GROUP)' });
  yes = Option.Boolean('-y,--yes', false, { description: 'Do not ask' });

  protected async run(): Promise<number> {
    const { installSettings } = require('../../host/install/settings') as typeof import('../../host/install/settings');
    if (!this.yes) {
      const s = installSettings({
        runPath: this.runPath,
        configPath: this.config,
        socket: this.socket,
        containerdSocket: this.containerdSocket,
        group: this.group,
      });
      this.out(`This removes every realm and cell under ${s.runPath}, kukeond, ${s.socket} and the group ${s.group}. Continue? [y/N] `);
      const answer = await this.readLine();
      if (!/^y(es)?$/i.test(answer.trim())) {
        this.out('aborted: nothing removed\n');
        return 1;
      }
    }
    const { uninstallHost } = require('../../host/install/uninstall-host') as typeof import('../../host/install/uninstall-host');
    const failures = await uninstallHost(
      {
        runPath: this.runPath,
        configPath: this.config,
        socket: this.socket,
        containerdSocket: this.containerdSocket,
        group: this.group,
        unitDir: this.unitDir,
      },
      (line) => this.out(line),
    );
    if (failures.length) {
      this.err(`Error: kuke uninstall could not remove:\n${failures.map((f) => `  ${f}\n`).join('')}`);
      return 1;
    }
    this.out('kukeon is uninstalled\n');
    return 0;
  }

  /** One line of stdin (the answer), or '' at its end. */
  private readLine(): Promise<string> {
    return new Promise((resolve) => {
      let text = '';
      const stdin = this.context.stdin;
      const done = () => {
        stdin.removeListener('data', onData);
        stdin.removeListener('end', done);
        stdin.pause?.();
        resolve(text.split('\n')[0] ?? '');
      };
      const onData = (chunk: Buffer | string) => {
        text += chunk.toString();
        if (text.includes('\n')) done();
      };
      stdin.on('data', onData);
      stdin.on('end', done);
    });
  }
}
