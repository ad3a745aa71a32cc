import { Command, Option } from 'clipanion';
import { KukeonError } from '../../../sdk';
import type { Kind, WatchEvent } from '../../../sdk';
import { isVolumeKind, parseKind } from '../kinds';
import { printSecrets } from '../output/print-secrets';
import { isSecretKind, secretScope } from '../secret-kind';
import { checkFormat, printDocs } from '../output/print-docs';
import type { OutputFormat } from '../output/print-docs';
import { BaseCommand } from '../base-command';
import { scopePath, scopedScope } from '../scope';
import { checkName } from '../../host/validation/names';

export class GetCommand extends BaseCommand {
  static override paths = [['get'], ['g']];
  static override usage = Command.Usage({
    category: 'Resources',
    description: 'Show resources with their live status',
    details:
      'Kinds: realm(s,r), space(s,sp), stack(s,st), cell(s,ce), container(s,co), volume(s,vol), secret(s,sec). Reads only; `refresh` writes status. ' +
      'Secrets: those of the scope and every scope under it (--realm, then --space, --stack, --cell while given); values only with --show-values -o yaml|json. ' +
      "Cells: READY is running/declared containers (the workloads and a declared root; a synthesized root is not counted), RESTARTS the sum of the containers' restartCount; -o json|yaml shows each container's status in status.containerStatuses. " +
      'STATE is read from the live tasks: Degraded when a workload that should run has no running task, Unknown when the root has none. ' +
      'Containers: REASON says why one is not running (Completed, Error (exit 3), Killed (SIGKILL), OOMKilled, CrashLoopBackOff, Stopped). `kuke describe` adds the events.',
    examples: [
      ['Cells of a stack', '$0 get cells --realm main --space blog --stack wp'],
      ['One realm as YAML', '$0 get realm main -o yaml'],
      ['Every volume of a realm, at every level', '$0 get volumes --realm main'],
    ],
  });

  kind = Option.String({ required: true });
  name = Option.String({ required: false });
  output = Option.String('-o,--output', { description: 'table|wide|yaml|json' });
  selector = Option.String('-l,--selector', { description: 'Label selector: k=v, k!=v, k, !k (comma = AND)' });
  realm = Option.String('--realm', { description: 'Realm (default: default)' });
  space = Option.String('--space', { description: 'Space (default: default)' });
  stack = Option.String('--stack', { description: 'Stack (default: default)' });
  cell = Option.String('--cell', { description: 'For containers: the cell (default: every cell of the stack)' });
  allRealms = Option.Boolean('-A,--all-realms', false, { description: 'Every realm, space and stack (scope flags are ignored)' });
  watch = Option.Boolean('-w,--watch', false, {
    description: 'After the list, print each change as it happens (needs kukeond), until Ctrl-C',
  });
  noDaemon = Option.Boolean('--no-daemon', false, { description: 'Run in-process' });
  showValues = Option.Boolean('--show-values', false, { description: 'Secrets: include each value (spec.data) in -o yaml|json' });

  protected override noDaemonFlag(): boolean {
    return this.noDaemon;
  }

  protected async run(): Promise<number> {
    if (isSecretKind(this.kind)) return this.secrets();
    if (this.showValues) throw new KukeonError('KUKEON_E_USAGE', '--show-values is for secrets');
    if (isVolumeKind(this.kind)) return this.volumes();
    const kind = parseKind(this.kind);
    const format = checkFormat(this.output);
    if (this.name !== undefined && this.selector !== undefined)
      throw new KukeonError('KUKEON_E_USAGE', 'a NAME and -l cannot be used together');
    if (this.name !== undefined) checkName(this.name, `${kind.toLowerCase()} name`);
    const flags = { realm: this.realm, space: this.space, stack: this.stack, cell: this.cell };
    const scope = kind === 'Container' && this.cell === undefined ? scopePath('Cell', flags) : scopePath(kind, flags);
    if (this.allRealms && this.name !== undefined)
      throw new KukeonError('KUKEON_E_USAGE', 'a NAME cannot be looked up across all realms (-A); give its scope instead');
    // -w subscribes before listing, so no change falls between the list and the first event
    const changes = this.watch ? this.changes(kind, scope) : undefined;
    const docs = await (await this.api()).get(
      { kind, scope, name: this.name, selector: this.selector, allRealms: this.allRealms },
      this.call(),
    );
    const text = printDocs(kind, docs, format, this.name !== undefined);
    if (text === '' && format !== 'yaml' && format !== 'json')
      this.err(`No ${kind.toLowerCase()}s found in ${this.allRealms ? 'any realm' : scope.length ? scope.join('/') : 'the run path'}.\n`);
    this.out(text);
    if (changes) return this.follow(kind, format, changes);
    return 0;
  }

  /** Volumes of the scope and below it: `--realm` alone lists the realm's at every level; -A every realm's. */
  private async volumes(): Promise<number> {
    const format = checkFormat(this.output);
    if (this.watch) throw new KukeonError('KUKEON_E_USAGE', 'get volumes has no -w');
    if (this.name !== undefined) checkName(this.name, 'volume name');
    if (this.allRealms && this.name !== undefined)
      throw new KukeonError('KUKEON_E_USAGE', 'a NAME cannot be looked up across all realms (-A); give its scope instead');
    const scope = scopedScope({ realm: this.realm, space: this.space, stack: this.stack });
    const docs = await (await this.api()).get(
      { kind: 'Volume', scope, name: this.name, selector: this.selector, allRealms: this.allRealms },
      this.call(),
    );
    const text = printDocs('Volume', docs, format, this.name !== undefined);
    if (text === '' && format !== 'yaml' && format !== 'json')
      this.err(`No volumes found in ${this.allRealms ? 'any realm' : scope.join('/')}.\n`);
    this.out(text);
    return 0;
  }

  /** Secrets of the scope and every scope under it (scope flags: realm, then space, stack, cell while given). */
  private async secrets(): Promise<number> {
    const format = checkFormat(this.output);
    if (this.watch) throw new KukeonError('KUKEON_E_USAGE', 'get secrets has no -w');
    if (this.name !== undefined && this.selector !== undefined)
      throw new KukeonError('KUKEON_E_USAGE', 'a NAME and -l cannot be used together');
    if (this.showValues && format !== 'yaml' && format !== 'json')
      throw new KukeonError('KUKEON_E_USAGE', '--show-values needs -o yaml or -o json');
    const scope = secretScope({ realm: this.realm, space: this.space, stack: this.stack, cell: this.cell });
    const docs = await (await this.api()).listSecrets(
      { scope, name: this.name, selector: this.selector, allRealms: this.allRealms, showValues: this.showValues },
      this.call(),
    );
    const text = printSecrets(docs, format, this.name !== undefined);
    if (text === '' && format !== 'yaml' && format !== 'json')
      this.err(`No secrets found in ${this.allRealms ? 'any realm' : scope.join('/')}.\n`);
    this.out(text);
    return 0;
  }

  private changes(kind: Kind, scope: string[]): { events: AsyncIterator<WatchEvent>; first: Promise<IteratorResult<WatchEvent>> } {
    if (this.route().mode === 'in-process') throw new KukeonError('KUKEON_E_USAGE', 'get -w needs kukeond (drop --no-daemon/--run-path)');
    const events = (async function* (cmd: GetCommand) {
      yield* (await cmd.api()).watch({ kinds: [kind], scope: cmd.allRealms ? undefined : scope }, cmd.call());
    })(this);
    const first = events.next();
    first.catch(() => undefined); // awaited by follow(); a failure is reported there, or by the get itself
    return { events, first };
  }

  /** `-w`: one row per change of this kind in the scope (kubectl's -w); JSON or YAML prints each event. */
  private async follow(
    kind: Kind,
    format: OutputFormat,
    changes: { events: AsyncIterator<WatchEvent>; first: Promise<IteratorResult<WatchEvent>> },
  ): Promise<number> {
    const call = this.call();
    try {
      for (let r = await changes.first; !r.done; r = await changes.events.next()) {
        const e = r.value;
        if (e.type === 'EXIT' || (this.name !== undefined && e.ref.path[e.ref.path.length - 1] !== this.name)) continue;
        if (format === 'json' || format === 'yaml') this.out(`${JSON.stringify(e)}\n`);
        else if (e.doc) this.out(printDocs(kind, [e.doc], format, false).split('\n').slice(1).join('\n'));
        else this.out(`${e.ref.path[e.ref.path.length - 1]}\tDeleted\n`);
      }
    } catch (err) {
      if (call.signal?.aborted) return 0;
      throw err;
    }
    return 0;
  }
}
