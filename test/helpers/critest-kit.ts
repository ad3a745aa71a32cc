// Where the critest kit (critest and crictl built from cri-tools, with its set-up scripts) is on this machine.

import fs from 'node:fs';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * The kit's directory: $KUKEON_CRITEST_DIR, else `<repo>/../shared/critest`, else /work/shared/critest; the first
 * that has bin/crictl, or undefined. An explicit $KUKEON_CRITEST_DIR without bin/crictl is not passed over silently.
 */
export function critestKitDir(): { dir?: string; reason?: string } {
  const explicit = process.env.KUKEON_CRITEST_DIR;
  const candidates = explicit ? [explicit] : [path.join(REPO_ROOT, '..', 'shared', 'critest'), '/work/shared/critest'];
  for (const dir of candidates) if (fs.existsSync(path.join(dir, 'bin', 'crictl'))) return { dir };
  return {
    reason: `no critest kit (bin/crictl) in ${candidates.join(' or ')}${explicit ? '' : ' (set KUKEON_CRITEST_DIR to its directory)'}`,
  };
}
