import { Command, Option } from 'clipanion';
import { API_VERSION, KukeonError, formatRef, isKukeonError } from '../../../sdk';
import type { ContainerSpec, ControllerApi, Ref } from '../../../sdk';
import { BaseCommand } from '../base-command';
import { refIn } from '../scope';
import { ClientSession } from '../session/client-session';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../session/detach-keys';
import { attachSession } from './attach';

export class RunCommand extends BaseCommand {
  static override paths = [['run']];
  static override usage = Command.Usage({
    category: 'Cells',
    description: 'Create a cell if needed, start it, and follow its workload',
    details:
      "In the foreground, prints the workload's output and exits with its exit code; `-d` returns once the cell runs; `--rm` deletes the cell after the workload exits. `-i`/`-t` (as docker's) make the container attachable and attach at once: `-t` puts this terminal in raw mode, `-i` sends its stdin; Ctrl-P Ctrl-Q (`--detach-keys`) detaches. Needs kukeond, which owns the terminals.",
    examples: [
      ['One-off busybox', '$0 run hello --image docker.io/kukeon/busybox:test --command echo -- hi'],
      ['A shell, removed when it exits', '$0 run -it scratch --image docker.io/library/busybox --rm -- sh'],
      ['A manifest, detached', '$0 run -f cell.yaml -d'],
    ],
  });

  file = Option.String('-f,--file', { description: 'Apply this manifest, then run its cell' });
  image = Option.String('--image', { description: "Image of the cell's container (required without -f)" });
  command = Option.String('--command', { description: "Command to run instead of the image's entrypoint" });
  env = Option.Array('-e,--env', { description: 'Set an environment variable (K=V; repeatable)' });
  /** NAME, then the arguments that replace the image's cmd (clipanion gives an optional positional to Rest). */
  rest = Option.Rest();
  detach = Option.Boolean('-d,--detach', false, { description: 'Start it and return without waiting for it to exit' });
  interactive = Option.Boolean('-i,--interactive', false, {
    description: "Attach this terminal's or pipe's stdin (the container gets a terminal)",
  });
  tty = Option.Boolean('-t,--tty', false, { description: 'Give the container a terminal and attach to it (this side must be one)' });
  detachKeys = Option.String('--detach-keys', DEFAULT_DETACH_KEYS, { description: 'Keys that detach from -it (default ctrl-p,ctrl-q)' });
  rm = Option.Boolean('--rm', false, { description: 'Remove the cell when its process exits (autoDelete)' });
  container = Option.String('--container', { description: 'Which workload to follow' });
  pull = Option.String('--pull', {
    description: "missing|never|always: when to pull a container's image (default missing; env KUKEON_PULL)",
  });
  realm = Option.String('--realm', { description: 'Realm (default: default)' });
  space = Option.String('--space', { description: 'Space (default: default)' });
  stack = Option.String('--stack', { description: 'Stack (default: default)' });

  private get name(): string | undefined {
    return this.rest[0];
  }

  protected async run(): Promise<number> {
    const attach = this.interactive || this.tty;
    // an attachable container always has a terminal: piped stdin without one is kuke exec -i's job
    if (this.interactive && !this.tty)
      throw new KukeonError(
        'KUKEON_E_USAGE',
        'kuke run -i needs -t (the container gets a terminal); to pipe input into a running cell use kuke exec -i',
      );
    if (attach && this.file !== undefined)
      throw new KukeonError(
        'KUKEON_E_USAGE',
        '-i/-t make the container of --image attachable; with -f, set attachable: true in the manifest and kuke attach',
      );
    // a terminal that is not one is refused before anything is made
    const session =
      attach && !this.detach
        ? new ClientSession({
            stdin: this.interactive,
            tty: this.tty,
            detachKeys: parseDetachKeys(this.detachKeys),
            signal: this.call().signal,
          })
        : undefined;
    const api = await this.api();
    const images = { pull: this.pullPolicy(this.pull), credentials: this.credentials() };
    let ref: Ref;
    if (this.file !== undefined) {
      const report = await api.apply({ text: await this.readInput(this.file), source: this.file, ...images }, this.call());
      const failed = report.items.find((i) => i.action === 'failed');
      if (failed) throw new KukeonError('KUKEON_E_STEP', `${formatRef(failed.ref)}: ${failed.error}`);
      const cells = report.items.filter((i) => i.ref.kind === 'Cell' && (this.name === undefined || i.ref.path[3] === this.name));
      if (cells.length !== 1)
        throw new KukeonError('KUKEON_E_USAGE', `the manifest has ${cells.length} matching cells; name one: kuke run -f FILE NAME`);
      ref = cells[0].ref as Ref;
    } else {
      if (this.name === undefined || this.image === undefined)
        throw new KukeonError('KUKEON_E_USAGE', 'usage: kuke run NAME --image REF [--command CMD] [-- ARGS...], or kuke run -f FILE');
      ref = refIn('Cell', this.name, { realm: this.realm, space: this.space, stack: this.stack });
      const container: ContainerSpec = { id: this.name, image: this.image };
      if (this.command) container.command = this.command;
      if (this.rest.length > 1) container.args = this.rest.slice(1);
      if (this.env?.length) container.env = this.env;
      if (attach) container.attachable = true;
      const [realmId, spaceId, stackId] = ref.path;
      const doc = {
        apiVersion: API_VERSION,
        kind: 'Cell',
        metadata: { name: this.name },
        // --rm: kukeond deletes the cell when its process exits even after a detach or a killed kuke
        spec: { realmId, spaceId, stackId, containers: [container], ...(this.rm ? { autoDelete: true } : {}) },
      };
      const report = await api.apply({ text: JSON.stringify(doc), source: 'run', ...images }, this.call());
      const failed = report.items.find((i) => i.action === 'failed');
      if (failed) throw new KukeonError((failed.code as never) ?? 'KUKEON_E_STEP', `${formatRef(failed.ref)}: ${failed.error}`);
    }
    if (this.detach) {
      this.out(`${formatRef(ref)} started\n`);
      return 0;
    }
    if (session) {
      const code = await attachSession(api, session, { ref, stdin: this.interactive }, this.context.stderr).catch(async (err) => {
        // a process quicker than the attach (run -it x -- echo hi): its output and exit code, as Docker prints them
        if (!isKukeonError(err) || err.code !== 'KUKEON_E_STATE') throw err;
        for await (const chunk of api.logs({ ref }, this.call())) this.context.stdout.write(chunk);
        let exitCode = 1;
        for await (const exit of api.wait({ ref }, this.call())) exitCode = exit.exitCode;
        return exitCode;
      });
      // a detached client leaves the cell running (and so in place); an exited process's cell goes with --rm
      if (this.rm && !session.detached && !session.signal.aborted) await this.remove(api, ref);
      return code;
    }
    // The wait starts with the log, so the exit code is in hand even when kukeond's autoDelete (--rm) is quicker
    // than this client; the log follows until the workload exits.
    const exited = (async () => {
      let exitCode = 1;
      for await (const exit of api.wait({ ref, container: this.container }, this.call())) exitCode = exit.exitCode;
      return exitCode;
    })();
    exited.catch(() => undefined);
    for await (const chunk of api.logs({ ref, container: this.container, follow: true }, this.call())) this.context.stdout.write(chunk);
    const exitCode = await exited;
    if (this.rm) await this.remove(api, ref);
    return exitCode;
  }

  /** --rm: the cell goes; kukeond's autoDelete may have taken it already. */
  private async remove(api: ControllerApi, ref: Ref): Promise<void> {
    try {
      await api.delete({ ref, force: true }, this.call());
    } catch (err) {
      if (!isKukeonError(err) || err.code !== 'KUKEON_E_NOT_FOUND') throw err;
    }
  }
}
