import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base-command';
import { ttyProgress } from '../../output/pull-progress';
import { checkName } from '../../../host/validation/names';

export class ImagePullCommand extends BaseCommand {
  static override paths = [['image', 'pull'], ['pull']];
  static override usage = Command.Usage({
    category: 'Images',
    description: "Pull an image from its registry into a realm's containerd namespace and unpack it",
    details:
      "References resolve as docker does (`busybox` is `docker.io/library/busybox:latest`). Credentials come from the realm's `spec.registryCredentials`, then from `kuke login`. Plain HTTP is used only for loopback registries or with `--insecure`. Progress is shown on a terminal.",
    examples: [
      ['From Docker Hub', '$0 image pull busybox'],
      ['A local registry, another platform', '$0 image pull 127.0.0.1:5000/app:1 --platform linux/arm64 --realm main'],
    ],
  });

  ref = Option.String({ required: true });
  realm = Option.String('--realm', 'default', { description: 'Realm (default: default)' });
  platform = Option.String('--platform', { description: 'os/arch[/variant] (default: this host)' });
  insecure = Option.Boolean('--insecure', false, { description: 'Allow plain HTTP to a non-loopback registry' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'No progress lines' });

  protected async run(): Promise<number> {
    checkName(this.realm, '--realm');
    const onProgress = this.quiet ? undefined : ttyProgress(this.context.stdout as NodeJS.WritableStream & { isTTY?: boolean });
    const events = (await this.api()).pullImage(
      { realm: this.realm, ref: this.ref, platform: this.platform, insecure: this.insecure, credentials: this.credentials() },
      this.call(),
    );
    for await (const e of events) {
      if (e.kind === 'progress') onProgress?.(e.progress as never);
      else this.out(`pulled ${e.result.name} (${e.result.digest}, ${e.result.platform})\n`);
    }
    return 0;
  }
}
