// What a failed `kuke cp` script means, said as a user can act on it: a missing path, a path that is not a
// directory, an image without tar or without a shell (named, with what kuke cp needs), or tar's own words.

import { type AnyDoc, type ControllerApi, type ContainerSpec, KukeonError, formatRef, rootContainerId } from '../../../sdk';
import type { CellExecOutcome, CellTarget } from './cell-exec';
import { MARKER } from './cell-scripts';

/** The reason a script reported on stderr (`not-found`, `no-tar`, ...), if any. */
export function scriptReason(stderr: string): string | undefined {
  return stderr
    .split('\n')
    .find((line) => line.startsWith(MARKER))
    ?.slice(MARKER.length)
    .trim();
}

/** The container's name and image, as far as the cell's document tells (a best effort: only for a message). */
async function containerImage(api: ControllerApi, target: CellTarget): Promise<{ id?: string; image?: string }> {
  try {
    const [cell] = (await api.get({ kind: 'Cell', scope: target.ref.path.slice(0, -1), name: target.ref.path.at(-1) })) as AnyDoc[];
    const spec = cell?.spec as { containers?: ContainerSpec[]; rootContainerId?: string } | undefined;
    const containers = spec?.containers ?? [];
    const root = rootContainerId(spec);
    const workloads = containers.filter((c) => c.id !== root);
    const chosen = target.container
      ? containers.find((c) => c.id === target.container)
      : workloads.length === 1
        ? workloads[0]
        : workloads.length === 0
          ? containers[0]
          : undefined;
    return { id: chosen?.id ?? target.container, image: chosen?.image };
  } catch {
    return { id: target.container };
  }
}

function lastLines(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith(MARKER));
  return lines.slice(-3).join('; ');
}

/** The error for a script that did not succeed; `path` is the container path as the user wrote it. */
export async function cellScriptError(
  api: ControllerApi,
  target: CellTarget,
  outcome: CellExecOutcome,
  path: string,
): Promise<KukeonError> {
  const where = formatRef(target.ref);
  const reason = scriptReason(outcome.stderr);
  if (reason === 'not-found') return new KukeonError('KUKEON_E_NOT_FOUND', `${where}:${path}: no such file or directory in the container`);
  if (reason === 'not-dir' || reason === 'no-dir')
    return new KukeonError('KUKEON_E_COPY', `${where}:${path}: not a directory in the container`);
  if (reason === 'no-tar' || outcome.exitCode === 126 || outcome.exitCode === 127) {
    const { id, image } = await containerImage(api, target);
    const needs = reason === 'no-tar' ? 'has no tar' : 'has no /bin/sh';
    const what = `${id ? `container ${id}` : 'the container'}${image ? ` (image ${image})` : ''}`;
    return new KukeonError(
      'KUKEON_E_COPY',
      `${where}: ${what} ${needs}: kuke cp runs /bin/sh and tar inside the container (as kubectl cp does); add them to the image (busybox, alpine and debian images have both)`,
    );
  }
  const detail = lastLines(outcome.stderr);
  const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with ${outcome.exitCode}`;
  return new KukeonError('KUKEON_E_COPY', `${where}:${path}: tar in the container ${how}${detail ? `: ${detail}` : ''}`);
}
