// The terminal fields: a container's `attachable` and `tty`, and a cell's `tty.default`. The root holds the cell's
// namespaces and is never attached to; `tty` only means something on an attachable container (as upstream).

import type { ContainerSpec } from '../../../sdk';

type Fail = (field: string, msg: string) => never;

export function checkTerminal(c: ContainerSpec, field: string, isRoot: boolean, invalid: Fail): void {
  if (c.attachable && isRoot)
    invalid(`${field}.attachable`, "cannot be set on the root container (it holds the cell's namespaces); make a workload attachable");
  if (c.tty !== undefined && c.attachable !== true) invalid(`${field}.tty`, 'requires attachable: true on the same container');
  if (c.terminal !== undefined && c.attachable !== true) invalid(`${field}.terminal`, 'requires attachable: true on the same container');
  if (c.stdin === true && (c.attachable !== true || c.terminal !== false))
    invalid(`${field}.stdin`, 'requires attachable: true and terminal: false (a terminal always has its input)');
  if (c.stdinOnce === true && c.stdin !== true) invalid(`${field}.stdinOnce`, 'requires stdin: true on the same container');
}

export function checkCellTty(spec: { containers: ContainerSpec[]; tty?: { default?: string } }, invalid: Fail): void {
  const chosen = spec.tty?.default;
  if (chosen === undefined) return;
  const attachable = spec.containers.filter((c) => c.attachable === true).map((c) => c.id);
  if (!attachable.includes(chosen)) {
    const known = spec.containers.some((c) => c.id === chosen);
    invalid(
      'spec.tty.default',
      `names "${chosen}", which is ${known ? 'not attachable' : 'not a container of this cell'}${
        attachable.length ? ` (attachable: ${attachable.join(', ')})` : ' (no container of the cell is attachable)'
      }`,
    );
  }
}
