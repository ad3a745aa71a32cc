import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import { KukeonError } from '../../../../sdk';
import { BaseCommand } from '../../base-command';
import { checkName } from '../../../host/validation/names';

export class ImageLoadCommand extends BaseCommand {
  static override paths = [['image', 'load']];
  static override usage = Command.Usage({
    category: 'Images',
    description: 'Load an OCI image-layout archive into a realm and unpack it',
    examples: [
      ['From a file', '$0 image load busybox-oci.tar --realm main'],
      ['From stdin', 'cat img.tar | $0 image load - --realm main'],
    ],
  });

  file = Option.String({ required: true });
  realm = Option.String('--realm', 'default', { description: 'Realm (default: default)' });

  protected async run(): Promise<number> {
    checkName(this.realm, '--realm');
    let input: AsyncIterable<Uint8Array>;
    if (this.file === '-') input = this.context.stdin as AsyncIterable<Uint8Array>;
    else {
      if (!fs.existsSync(this.file)) throw new KukeonError('KUKEON_E_USAGE', `cannot read ${this.file}: no such file`);
      input = fs.createReadStream(this.file);
    }
    const images = await (await this.api()).loadImage({ realm: this.realm }, input, this.call());
    for (const i of images) this.out(`loaded ${i.name} (${i.digest})\n`);
    return 0;
  }
}
