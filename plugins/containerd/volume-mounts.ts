// A container's `volumes` as OCI mounts, and the host side they need before the container is created: a bind source
// that `ensure` makes (with its mode), a named volume's data directory that must be there. Validation normalised
// every path and refused the bad shapes; `${CELL_NAME}` in a bind source is expanded here.

import fs from 'node:fs';
import { KukeonError, formatRef, volumeRefOf } from '../../sdk';
import type { OciMount, ScopedRef, VolumeMount } from '../../sdk';

// biome-ignore lint/suspicious/noTemplateCurlyInString: the variable as users write it in a source
export const CELL_NAME_VAR = '${CELL_NAME}';

/** Where a named volume's data lives on the host. */
export type VolumeDirOf = (ref: ScopedRef) => string;

function modeOf(mode: VolumeMount['mode'], fallback: number): number {
  return mode === undefined ? fallback : Number.parseInt(mode, 8);
}

const bindSource = (v: VolumeMount, cellName: string) => (v.source ?? '').split(CELL_NAME_VAR).join(cellName);

/**
 * The OCI mounts of `volumes`. rslave on binds: a mount the host removes later under the source (a cell's rootfs
 * under /run/containerd) goes from the container too, instead of staying busy in its mount namespace.
 */
export function ociVolumeMounts(volumes: readonly VolumeMount[] | undefined, cellName: string, volumeDir?: VolumeDirOf): OciMount[] {
  return (volumes ?? []).map((v): OciMount => {
    const rw = v.readOnly ? 'ro' : 'rw';
    if (v.kind === 'tmpfs') {
      const options = ['nosuid', 'nodev', `mode=${modeOf(v.mode, 0o1777).toString(8)}`];
      if (v.sizeBytes !== undefined) options.push(`size=${v.sizeBytes}`);
      return { destination: v.target, type: 'tmpfs', source: 'tmpfs', options: [...options, rw] };
    }
    if (v.kind === 'volume') {
      if (!v.volumeRef || !volumeDir)
        throw new KukeonError('KUKEON_E_STEP', `the volume mount at ${v.target} has no volume directory to mount`, { field: 'volumes' });
      return { destination: v.target, type: 'bind', source: volumeDir(volumeRefOf(v.volumeRef)), options: ['rbind', 'rprivate', rw] };
    }
    return { destination: v.target, type: 'bind', source: bindSource(v, cellName), options: ['rbind', 'rslave', rw] };
  });
}

/** What must be on the host before the container is created: `ensure`'d bind sources made, volume data present. */
export function prepareVolumeSources(volumes: readonly VolumeMount[] | undefined, cellName: string, volumeDir: VolumeDirOf): void {
  (volumes ?? []).forEach((v, i) => {
    if (v.kind === 'volume' && v.volumeRef) {
      const ref = volumeRefOf(v.volumeRef);
      if (!fs.existsSync(volumeDir(ref)))
        throw new KukeonError('KUKEON_E_NOT_FOUND', `${formatRef(ref)} does not exist (its data directory ${volumeDir(ref)} is missing)`, {
          field: `volumes[${i}].volumeRef`,
        });
    }
    if ((v.kind ?? 'bind') !== 'bind') return;
    const source = bindSource(v, cellName);
    if (fs.existsSync(source)) return;
    if (!v.ensure)
      throw new KukeonError('KUKEON_E_NOT_FOUND', `bind source ${source} does not exist on the host (set ensure: true to create it)`, {
        field: `volumes[${i}].source`,
      });
    fs.mkdirSync(source, { recursive: true });
    fs.chmodSync(source, modeOf(v.mode, 0o755)); // exactly the mode asked for: mkdir's is filtered by the umask
  });
}
