import { Command, Option } from 'clipanion';
import { KukeonError } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { copyFromCell } from '../copy/copy-from-cell';
import { parseCopyArg } from '../copy/copy-arg';
import { cellPath, localPath } from '../copy/copy-path';
import { copyToCell } from '../copy/copy-to-cell';
import { refIn } from '../scope';

export class CopyCommand extends BaseCommand {
  static override paths = [['cp']];
  static override usage = Command.Usage({
    category: 'Cells',
    description: "Copy files and directories between a cell's container and this machine (docker cp's rules)",
    details: [
      'One side is `CELL:PATH` (a path in the container, taken from its root), the other a local path, or `-` for a tar stream on stdin or stdout. A local path with a colon is written absolute or with a leading `.` (`./a:b`).',
      '',
      "Docker's rules: a file lands in an existing directory under its own name, over an existing file, or as a new name in an existing directory; a directory lands in an existing directory under its own name, or is created at a new name; `DIR/.` copies the directory's content. A trailing `/` says the path is a directory. Modes, owners (numeric uid and gid, as docker cp -a) and symlinks are kept; owners of local files only when kuke runs as root.",
      '',
      "How: as kubectl cp, kuke runs `/bin/sh` and `tar` inside the container as root (uid 0, whatever the container's user) through the exec session API, and streams the tar through that session's stdin or stdout; this side packs and unpacks with node-tar. So it works in-process and through kukeond alike, the container's own view of its paths (its mounts, its symlinks) applies, and no host path of the container is read. The image needs `sh` and `tar` (busybox, alpine and debian images have them), and the container must be running. Unpacking here never writes outside the destination: no absolute or `..` paths, nothing through a symlink, only entries under the copied path.",
    ].join('\n'),
    examples: [
      ["Copy a cell's directory here", '$0 cp web:/etc/nginx ./nginx-conf --realm main --space blog --stack wp'],
      ['Copy a file into a directory of the container', '$0 cp ./index.html web:/usr/share/nginx/html/ --container nginx'],
      ["A directory's content into an existing directory", '$0 cp ./site/. web:/srv/www'],
      ['A tar of a path on stdout', '$0 cp web:/var/log - > logs.tar'],
      ['A tar from stdin, unpacked into a directory', 'tar -cf - conf | $0 cp - web:/etc/app'],
    ],
  });

  realm = Option.String('--realm', { description: 'Realm (default: default)' });
  space = Option.String('--space', { description: 'Space (default: default)' });
  stack = Option.String('--stack', { description: 'Stack (default: default)' });
  container = Option.String('--container', { description: "The container (default: the cell's single workload)" });
  followLink = Option.Boolean('-L,--follow-link', false, { description: 'Copy what a symlink source points to, not the link' });
  archive = Option.Boolean('-a,--archive', false, { description: 'Accepted for docker cp: owners (uid and gid) are always kept' });
  source = Option.String({ name: 'SRC' });
  destination = Option.String({ name: 'DEST' });

  protected async run(): Promise<number> {
    const src = parseCopyArg(this.source);
    const dst = parseCopyArg(this.destination);
    if (src.kind === 'cell' && dst.kind === 'cell')
      throw new KukeonError('KUKEON_E_USAGE', 'copying between cells is not supported; copy to a local path first');
    if (src.kind !== 'cell' && dst.kind !== 'cell')
      throw new KukeonError('KUKEON_E_USAGE', 'one side must be a cell path, CELL:PATH (a local path with a colon starts with / or ./)');
    const scope = { realm: this.realm, space: this.space, stack: this.stack };
    const opts = { follow: this.followLink, call: this.call() };
    if (src.kind === 'cell') {
      const target = { ref: refIn('Cell', src.cell, scope), container: this.container };
      const sink =
        dst.kind === 'stream'
          ? { kind: 'stream' as const, write: (chunk: Uint8Array) => this.writeOut(chunk) }
          : { kind: 'local' as const, path: localPath((dst as { path: string }).path) };
      const { dropped, unsupported } = await copyFromCell(await this.api(), target, cellPath(src.path), sink, opts);
      if (dropped) this.err(`Warning: the container sent ${dropped} entr${dropped === 1 ? 'y' : 'ies'} outside ${src.path}; not written\n`);
      if (unsupported.length)
        this.err(
          `Warning: ${unsupported.length} device node(s) or FIFO(s) not copied (${unsupported.slice(0, 3).join(', ')}${unsupported.length > 3 ? ', ...' : ''})\n`,
        );
      return 0;
    }
    if (dst.kind !== 'cell') return 1;
    const target = { ref: refIn('Cell', dst.cell, scope), container: this.container };
    const source =
      src.kind === 'stream'
        ? { kind: 'stream' as const, read: this.context.stdin as AsyncIterable<Uint8Array> }
        : { kind: 'local' as const, path: localPath(src.path) };
    await copyToCell(await this.api(), target, source, cellPath(dst.path), opts);
    return 0;
  }

  /** stdout with backpressure: the next chunk waits for the pipe to drain. */
  private writeOut(chunk: Uint8Array): void | Promise<void> {
    if (this.context.stdout.write(chunk)) return;
    return new Promise((resolve) => this.context.stdout.once('drain', () => resolve()));
  }
}
