// Where kukeond lives when `kuke init` runs it on containerd: the system realm's cell and its one container.

import type { Ref } from '../../../sdk';
import { SYSTEM_REALM } from '../validation/names';

export const SYSTEM_CELL: Ref & { kind: 'Cell' } = { kind: 'Cell', path: [SYSTEM_REALM, 'kukeon', 'kukeon', 'kukeond'] };

/** The container of SYSTEM_CELL that runs kukeond. */
export const DAEMON_CONTAINER = 'kukeond';
