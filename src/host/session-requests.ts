// The checks of an exec or attach request before anything runs: both arrive from the socket as plain JSON, so
// every field is checked for its type as well as its meaning, and a bad one is the caller's error, by name.

import { KukeonError } from '../../sdk';
import type { AttachRequest, ExecRequest, Ref, TerminalSize } from '../../sdk';
import { checkName } from './validation/names';

const usage = (verb: string, why: string) => new KukeonError('KUKEON_E_USAGE', `${verb}: ${why}`);

function checkCellRef(verb: string, ref: Ref | undefined): void {
  if (ref?.kind !== 'Cell' || !Array.isArray(ref.path) || ref.path.length !== 4)
    throw usage(verb, `ref must be a cell's (realm, space, stack, cell), not ${JSON.stringify(ref)}`);
  for (const name of ref.path) checkName(name, 'cell path');
}

function checkSize(verb: string, size: TerminalSize | undefined): void {
  if (size === undefined) return;
  const ok = (n: unknown) => Number.isInteger(n) && (n as number) > 0 && (n as number) <= 0xffff;
  if (!ok(size?.cols) || !ok(size?.rows)) throw usage(verb, `size must be { cols, rows } of 1..65535, not ${JSON.stringify(size)}`);
}

function checkString(verb: string, field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0') || value.length > 4096)
    throw usage(verb, `${field} must be a non-empty string without NUL of at most 4096 characters`);
}

export function checkExecRequest(req: ExecRequest): void {
  checkCellRef('exec', req?.ref);
  if (req.container !== undefined) checkName(req.container, 'container');
  if (!Array.isArray(req.command) || req.command.length === 0)
    throw usage('exec', 'a command is required: kuke exec CELL -- CMD [ARGS...]');
  if (req.command.length > 4096) throw usage('exec', 'at most 4096 arguments');
  req.command.forEach((a, i) => {
    if (typeof a !== 'string' || a.includes('\0')) throw usage('exec', `command[${i}] must be a string without NUL`);
  });
  if (req.command[0] === '') throw usage('exec', 'the program name is empty');
  if (req.env !== undefined && !Array.isArray(req.env)) throw usage('exec', 'env must be a list of K=V');
  for (const [i, e] of (req.env ?? []).entries()) {
    checkString('exec', `env[${i}]`, e);
    if (!/^[^=]+=/.test(e)) throw usage('exec', `env[${i}] must be K=V, not ${JSON.stringify(e.slice(0, 80))}`);
  }
  if (req.user !== undefined) {
    checkString('exec', 'user', req.user);
    if (!/^[^:\s]+(:[^:\s]+)?$/.test(req.user))
      throw usage('exec', `user must be uid[:gid] or name[:group], not ${JSON.stringify(req.user)}`);
  }
  if (req.workdir !== undefined) {
    checkString('exec', 'workdir', req.workdir);
    if (!req.workdir.startsWith('/')) throw usage('exec', `workdir must be an absolute path, not ${JSON.stringify(req.workdir)}`);
  }
  checkSize('exec', req.size);
}

export function checkAttachRequest(req: AttachRequest): void {
  checkCellRef('attach', req?.ref);
  if (req.container !== undefined) checkName(req.container, 'container');
  checkSize('attach', req.size);
}
