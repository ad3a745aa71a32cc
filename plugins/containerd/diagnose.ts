// `kuke doctor` for containerd: reachable, its version, the snapshotter and runc shim, the pause binary.

import type { Diagnosis } from '../../sdk';
import type { CellRuntime, RuntimeConfig } from './cell-runtime';
import { findPauseBinary } from './pause-binary';

/**
 * How long doctor waits for containerd to answer: a diagnosis, not a hot path. A loaded or emulated machine took
 * 3.5 s for the first call (name resolution and connection setup before the request).
 */
const ANSWER_MS = 10_000;

export async function diagnose(rt: CellRuntime, config: RuntimeConfig): Promise<Diagnosis[]> {
  const out: Diagnosis[] = [];
  try {
    const v = await rt.client.version({ timeoutMs: ANSWER_MS });
    out.push({ check: 'containerd', status: 'ok', detail: `${config.socket}: containerd ${v.version}` });
  } catch (err) {
    out.push({
      check: 'containerd',
      status: 'error',
      detail: `${config.socket}: ${(err as Error).message}`,
      remedy: 'start containerd, or point plugins.containerd.socket (--containerd-socket) at its socket',
    });
    return out;
  }
  try {
    const plugins = await rt.client.introspection.plugins([], { timeoutMs: ANSWER_MS });
    const snap = plugins.find((p) => p.type === 'io.containerd.snapshotter.v1' && p.id === config.snapshotter);
    out.push(
      snap && !snap.init_err
        ? { check: 'snapshotter', status: 'ok', detail: `${config.snapshotter} is loaded` }
        : {
            check: 'snapshotter',
            status: 'error',
            detail: `${config.snapshotter}: ${snap?.init_err?.message ?? 'not loaded'}`,
            remedy: 'choose a loaded snapshotter in plugins.containerd.snapshotter (overlayfs or native)',
          },
    );
  } catch (err) {
    out.push({ check: 'snapshotter', status: 'warn', detail: `cannot list containerd plugins: ${(err as Error).message}` });
  }
  try {
    out.push({ check: 'pause', status: 'ok', detail: `synthesized roots run ${findPauseBinary(config.pauseBinary)} -P` });
  } catch (err) {
    out.push({ check: 'pause', status: 'error', detail: (err as Error).message, remedy: 'apt-get install catatonit' });
  }
  return out;
}
