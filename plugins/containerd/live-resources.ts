// The limits a running task is given by an update. runc update leaves a limit it is not given as it was, so a
// limit the document no longer sets is lifted explicitly: -1 is "none" for memory, cpu quota and pids, with
// runc's v1 and v2 drivers alike. cpu shares have no "none" (the default differs by driver) and keep their value.
// Only what runc update applies is passed: devices and the rest of the spec's resources stay as the task began.

import type { OciLinuxResources } from '../../sdk';

export function liveResources(r: OciLinuxResources | undefined): OciLinuxResources {
  return {
    memory: { limit: -1, ...r?.memory },
    cpu: { quota: -1, ...r?.cpu },
    pids: { limit: -1, ...r?.pids },
    ...(r?.unified ? { unified: r.unified } : {}),
  };
}
