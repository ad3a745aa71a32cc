// `kuke`: one command class per file under commands/, the path mirroring the verb; assembled here.

import { Builtins, Cli } from 'clipanion';
import { VERSION } from '../host/version';
import { ApplyCommand } from './commands/apply';
import { CreateCellCommand } from './commands/create/cell';
import { CreateRealmCommand } from './commands/create/realm';
import { CreateSpaceCommand } from './commands/create/space';
import { CreateStackCommand } from './commands/create/stack';
import { DeleteCommand } from './commands/delete';
import { DoctorCommand } from './commands/doctor';
import { GetCommand } from './commands/get';
import { ImageLoadCommand } from './commands/image/load';
import { ImageLsCommand } from './commands/image/ls';
import { ImagePruneCommand } from './commands/image/prune';
import { ImagePullCommand } from './commands/image/pull';
import { ImageRmCommand } from './commands/image/rm';
import { KillCommand } from './commands/kill';
import { LoginCommand } from './commands/login';
import { LogCommand } from './commands/log';
import { PluginsLsCommand } from './commands/plugins/ls';
import { PurgeCommand } from './commands/purge';
import { RefreshCommand } from './commands/refresh';
import { RestartCommand } from './commands/restart';
import { RunCommand } from './commands/run';
import { SchemaCommand } from './commands/schema';
import { StartCommand } from './commands/start';
import { StopCommand } from './commands/stop';
import { VersionCommand } from './commands/version';

export const COMMANDS = [
  ApplyCommand, GetCommand, CreateRealmCommand, CreateSpaceCommand, CreateStackCommand, CreateCellCommand,
  DeleteCommand, PurgeCommand, StartCommand, StopCommand, KillCommand, RestartCommand, RefreshCommand,
  RunCommand, LogCommand, ImageLoadCommand, ImageLsCommand, ImagePullCommand, ImageRmCommand, ImagePruneCommand, LoginCommand, PluginsLsCommand, DoctorCommand, SchemaCommand, VersionCommand,
];

export function buildCli(): Cli {
  const cli = new Cli({ binaryLabel: 'kukeon', binaryName: 'kuke', binaryVersion: VERSION, enableColors: false });
  for (const c of COMMANDS) cli.register(c);
  cli.register(Builtins.HelpCommand);
  return cli;
}

/** Runs kuke; resolves to the exit code: 0 success, 1 failure, 2 usage error. */
export async function main(argv: string[], context = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const cli = buildCli();
  let command;
  try {
    command = cli.process(argv, context);
  } catch (err) {
    context.stderr.write(cli.error(err as Error, { colored: false }));
    return 2;
  }
  return cli.run(command, context);
}
