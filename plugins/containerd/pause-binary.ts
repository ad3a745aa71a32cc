// The synthesized root runs a static pause binary bind-mounted into an empty rootfs, so it needs no image.

import fs from 'node:fs';
import { KukeonError } from '../../sdk';

export const PAUSE_CANDIDATES = [
  '/usr/bin/catatonit',
  '/usr/libexec/catatonit/catatonit',
  '/usr/libexec/podman/catatonit',
  '/usr/local/bin/catatonit',
];

export function findPauseBinary(configured?: string): string {
  const candidates = configured ? [configured] : PAUSE_CANDIDATES;
  for (const file of candidates) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  throw new KukeonError(
    'KUKEON_E_STEP',
    configured
      ? `pause binary ${configured} (plugins.containerd.pauseBinary) is not an executable file`
      : `no static pause binary found for the cell's root (looked in ${PAUSE_CANDIDATES.join(', ')})`,
    { plugin: 'containerd', hint: "install Debian's catatonit (apt-get install catatonit), or set plugins.containerd.pauseBinary" },
  );
}
