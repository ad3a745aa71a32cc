import { Command, Option } from 'clipanion';
import { KukeonError } from '../../../sdk';
import { authFilePath, normalizeServerAddress, writeAuthFile } from '../../../sdk/registry-auth';
import { BaseCommand } from '../base-command';

export class LoginCommand extends BaseCommand {
  protected static override readonly inProcessOnly = true;
  static override paths = [['login']];
  static override usage = Command.Usage({
    category: 'Images',
    description: 'Store registry credentials for pulls (in ~/.kuke/auth.json, mode 0600; env KUKEON_AUTH_FILE)',
    details:
      "The password is read from stdin. A realm's `spec.registryCredentials` take precedence over this file. Nothing is sent to the registry here: the credentials are used by the next pull.",
    examples: [['Docker Hub', 'echo "$TOKEN" | $0 login docker.io -u me --password-stdin']],
  });

  server = Option.String({ required: true });
  username = Option.String('-u,--username', { required: true, description: 'Registry user name' });
  passwordStdin = Option.Boolean('--password-stdin', false, { description: 'Read the password from stdin' });

  protected async run(): Promise<number> {
    if (!this.passwordStdin)
      throw new KukeonError('KUKEON_E_USAGE', 'pass the password on stdin with --password-stdin (never as an argument)');
    const password = (await this.readInput('-')).replace(/\r?\n$/, '');
    if (!password) throw new KukeonError('KUKEON_E_USAGE', 'no password on stdin');
    writeAuthFile(this.server, this.username, password);
    this.out(`credentials for ${normalizeServerAddress(this.server)} stored in ${authFilePath()}\n`);
    return 0;
  }
}
