// `kuke`: one command class per file under commands/, the path mirroring the verb; assembled here.

import { Builtins, Cli } from 'clipanion';
import { VERSION } from '../host/version';

type CommandClass = Parameters<Cli['register']>[0];

/**
 * Every command, by the first words of its paths. Only the modules whose words the arguments name are loaded
 * and registered: loading every command and building clipanion's parser for all of them cost each start ~150 ms
 * (and ~40% of a start in the emulated cgroup v2 guest). test/cli.test.ts checks the words against the paths.
 */
export const COMMAND_MODULES: readonly { words: readonly string[]; load: () => CommandClass[] }[] = [
  { words: ['apply'], load: () => [require('./commands/apply').ApplyCommand] },
  { words: ['get', 'g'], load: () => [require('./commands/get').GetCommand] },
  { words: ['tree'], load: () => [require('./commands/tree').TreeCommand] },
  { words: ['describe'], load: () => [require('./commands/describe').DescribeCommand] },
  {
    words: ['create', 'c'],
    load: () => [
      require('./commands/create/realm').CreateRealmCommand,
      require('./commands/create/space').CreateSpaceCommand,
      require('./commands/create/stack').CreateStackCommand,
      require('./commands/create/cell').CreateCellCommand,
    ],
  },
  { words: ['delete', 'd'], load: () => [require('./commands/delete').DeleteCommand] },
  { words: ['purge', 'p'], load: () => [require('./commands/purge').PurgeCommand] },
  { words: ['start'], load: () => [require('./commands/start').StartCommand] },
  { words: ['stop'], load: () => [require('./commands/stop').StopCommand] },
  { words: ['kill', 'k'], load: () => [require('./commands/kill').KillCommand] },
  { words: ['restart'], load: () => [require('./commands/restart').RestartCommand] },
  { words: ['refresh'], load: () => [require('./commands/refresh').RefreshCommand] },
  { words: ['run'], load: () => [require('./commands/run').RunCommand] },
  { words: ['top'], load: () => [require('./commands/top').TopCommand] },
  { words: ['events'], load: () => [require('./commands/events').EventsCommand] },
  { words: ['exec'], load: () => [require('./commands/exec').ExecCommand] },
  { words: ['cp'], load: () => [require('./commands/cp').CopyCommand] },
  { words: ['log', 'logs'], load: () => [require('./commands/log').LogCommand] },
  { words: ['attach', 'att'], load: () => [require('./commands/attach').AttachCommand] },
  {
    words: ['image', 'images', 'pull', 'rmi'],
    load: () => [
      require('./commands/image/load').ImageLoadCommand,
      require('./commands/image/ls').ImageLsCommand,
      require('./commands/image/pull').ImagePullCommand,
      require('./commands/image/rm').ImageRmCommand,
      require('./commands/image/prune').ImagePruneCommand,
    ],
  },
  { words: ['login'], load: () => [require('./commands/login').LoginCommand] },
  { words: ['plugins'], load: () => [require('./commands/plugins/ls').PluginsLsCommand] },
  { words: ['doctor'], load: () => [require('./commands/doctor').DoctorCommand] },
  { words: ['status'], load: () => [require('./commands/status').StatusCommand] },
  {
    words: ['daemon'],
    load: () => [
      require('./commands/daemon/start').DaemonStartCommand,
      require('./commands/daemon/stop').DaemonStopCommand,
      require('./commands/daemon/restart').DaemonRestartCommand,
      require('./commands/daemon/logs').DaemonLogsCommand,
    ],
  },
  { words: ['schema'], load: () => [require('./commands/schema').SchemaCommand] },
  { words: ['explain'], load: () => [require('./commands/explain').ExplainCommand] },
  { words: ['init'], load: () => [require('./commands/init').InitCommand] },
  { words: ['uninstall'], load: () => [require('./commands/uninstall').UninstallCommand] },
  { words: ['completion'], load: () => [require('./commands/completion').CompletionCommand] },
  { words: ['version', '--version'], load: () => [require('./commands/version').VersionCommand] },
];

/** The commands `argv` may name; every command when it names none (help, typos: clipanion suggests from all). */
export function commandsFor(argv: readonly string[]): CommandClass[] {
  const named = COMMAND_MODULES.filter((m) => m.words.some((w) => argv.includes(w)));
  return (named.length ? named : COMMAND_MODULES).flatMap((m) => m.load());
}

export function buildCli(argv?: readonly string[]): Cli {
  const cli = new Cli({ binaryLabel: 'kukeon', binaryName: 'kuke', binaryVersion: VERSION, enableColors: false });
  for (const c of argv ? commandsFor(argv) : COMMAND_MODULES.flatMap((m) => m.load())) cli.register(c);
  cli.register(Builtins.HelpCommand);
  return cli;
}

/** Runs kuke; resolves to the exit code: 0 success, 1 failure, 2 usage error. */
export async function main(
  argv: string[],
  context = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const cli = buildCli(argv);
  let command: ReturnType<Cli['process']>;
  try {
    command = cli.process(argv, context);
  } catch {
    // a usage error: say it as the full CLI would (its suggestions come from every command, not the subset)
    const full = buildCli();
    try {
      command = full.process(argv, context);
    } catch (err) {
      context.stderr.write(full.error(err as Error, { colored: false }));
      return 2;
    }
    return full.run(command, context);
  }
  return cli.run(command, context);
}
