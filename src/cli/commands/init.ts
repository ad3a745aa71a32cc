import { Command, Option } from 'clipanion';
import { KukeonError } from '../../../sdk';
import { BaseCommand } from '../base-command';

export class InitCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['init']];
  static override usage = Command.Usage({
    category: 'Host and daemon',
    description: 'Set this host up for kukeon and run kukeond as the system realm container kukeond (root)',
    details:
      'Idempotent: creates the group, the run path, the socket directory, the cgroup root, the CNI directories, the realm `default` and the system realm `kukeon-system`, starts kukeond on containerd (a kukeon-managed containerd when none answers and the binary is installed) and waits until it answers. A second run changes nothing and says so.',
    examples: [
      ['Set the host up', '$0 init'],
      ['On temporary paths', '$0 init --run-path /tmp/k/run --socket /tmp/k/sock/kukeond.sock --config /tmp/k/kukeon.yaml'],
      ['kukeond under systemd instead of the container', '$0 init --systemd'],
    ],
  });

  unitDir = Option.String('--unit-dir', {
    description: 'Where kukeond.service (--systemd) and kukeon-containerd.service go (default /etc/systemd/system)',
  });
  group = Option.String('--group', { description: 'The socket group (default kukeon; env KUKEON_SOCKET_GROUP)' });
  noWait = Option.Boolean('--no-wait', false, { description: 'Do not wait for kukeond to answer' });
  waitTimeout = Option.String('--wait-timeout', { description: 'Seconds to wait for kukeond (default 30)' });
  noContainerd = Option.Boolean('--no-containerd', false, { description: 'Never start a kukeon-managed containerd' });
  systemd = Option.Boolean('--systemd', false, { description: 'Install kukeond.service instead of the kukeond container' });

  protected async run(): Promise<number> {
    const seconds = this.waitTimeout === undefined ? 30 : Number(this.waitTimeout);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new KukeonError('KUKEON_E_USAGE', `--wait-timeout must be a positive number of seconds (got "${this.waitTimeout}")`);
    const { initHost } = require('../../host/install/init-host') as typeof import('../../host/install/init-host');
    await initHost(
      {
        runPath: this.runPath,
        configPath: this.config,
        socket: this.socket,
        containerdSocket: this.containerdSocket,
        group: this.group,
        wait: !this.noWait,
        waitTimeoutMs: seconds * 1000,
        noContainerd: this.noContainerd,
        systemd: this.systemd,
        unitDir: this.unitDir,
      },
      (line) => this.out(line),
    );
    return 0;
  }
}
