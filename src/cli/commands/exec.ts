import { Command, Option } from 'clipanion';
import { CellCommand } from '../cell-command';
import { ClientSession } from '../session/client-session';

export class ExecCommand extends CellCommand {
  static override paths = [['exec']];
  static override usage = Command.Usage({
    category: 'Cells',
    description: 'Run a command in a running container of a cell',
    details:
      "The process joins the container's namespaces and cgroup with its seccomp profile, capabilities and user (`-u` overrides the user). Default container: `--container`, else the cell's single workload. Exits with the process's status; 126 when it cannot be run, 127 when it is not found, 128+N when signal N ended it. `-t` needs a terminal on this side; without `-t`, stdout and stderr stay apart. When the client goes away, the process is hung up (SIGHUP), then killed.",
    examples: [
      ['A shell in the single workload', '$0 exec -it web --realm main --space blog --stack wp -- sh'],
      ['One command in one container', '$0 exec web --container nginx -- nginx -t'],
      ['Pipe input', 'echo hi | $0 exec -i web -- cat'],
    ],
  });

  container = Option.String('--container', { description: 'Which container (default: the single workload)' });
  interactive = Option.Boolean('-i,--interactive', false, { description: "Send this terminal's or pipe's stdin" });
  tty = Option.Boolean('-t,--tty', false, { description: 'Give the process a terminal (this side must be one)' });
  env = Option.Array('-e,--env', { description: 'K=V, over the container environment (repeatable)' });
  user = Option.String('-u,--user', { description: 'uid[:gid] or name[:group] from the container /etc/passwd' });
  workdir = Option.String('-w,--workdir', { description: 'Working directory inside the container' });
  command = Option.Rest({ required: 1 });

  protected async run(): Promise<number> {
    const ref = this.cellRef();
    const session = new ClientSession({ stdin: this.interactive, tty: this.tty, signal: this.call().signal });
    const api = await this.api();
    try {
      const result = await api.exec(
        {
          ref,
          container: this.container,
          command: this.command,
          env: this.env,
          user: this.user,
          workdir: this.workdir,
          tty: this.tty,
          stdin: this.interactive,
          size: session.size(),
        },
        session.io(),
        { signal: session.signal },
      );
      // a client that left (SIGTERM, SIGHUP) ends as it does through kukeond, whose stream reset carries no result
      if (session.signal.aborted) throw session.signal.reason;
      return result.exitCode;
    } finally {
      session.close();
    }
  }
}
