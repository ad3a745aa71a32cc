// The containerd plugin (slot `runtime`): one namespace per realm, a cell's root started first and stopped last,
// workloads joining the root's network, IPC and UTS namespaces, logs written by the shim, images loaded from
// OCI archives. It taps the host's hooks and provides runtime.images, runtime.logs, runtime.wait, runtime.events,
// runtime.tasks and runtime.diagnose.

import { exitEvents } from './exit-events';
import fs from 'node:fs';
import { KukeonError, PluginSkip, definePlugin, rootContainerId } from '../../sdk';
import type { CellContext, ContainerContext, ContainerStatus, PluginHost, RealmDoc } from '../../sdk';
import { CellRuntime, needsDaemon } from './cell-runtime';
import { Consoles } from './console/consoles';
import type { RuntimeConfig } from './cell-runtime';
import { diagnose } from './diagnose';
import { privilegeRefusal } from './privilege-policy';
import { writeEtcFiles } from './etc-files';
import { LABELS, ROOT_LEAF, containerdId } from './naming';
import { sweep } from './sweep';
import { tasks } from './tasks';
import { execService } from './exec-service';

const NAME = 'containerd';

function tapCell(host: PluginHost, rt: CellRuntime): void {
  const { hooks } = host;
  // A realm's own phases carry its document (it may already be gone from the store on purge); others have it as a parent.
  const ns = (ctx: { ref: { kind: string; path: readonly string[] }; doc: unknown; parents: CellContext['parents'] }) =>
    rt.namespaceOfRealm(ctx.ref.path[0], ctx.ref.kind === 'Realm' ? (ctx.doc as RealmDoc) : ctx.parents.realm);

  hooks.create.for('Realm').tapPromise(NAME, async (ctx) => {
    ctx.status.namespace = await rt.ensureNamespace(ctx.ref.path[0], ctx.doc);
  });
  hooks.create.for('Container').tapPromise(NAME, async (ctx) => rt.checkImage(ctx));

  hooks.cell.prepare.tapPromise(NAME, async (ctx) => rt.prepare(ctx));

  hooks.cell.startRoot.tapPromise(NAME, async (ctx) => {
    const root = ctx.rootId ? ctx.containers.find((c) => c.metadata.name === ctx.rootId) : undefined;
    const started = await rt.startTask(ctx, 'root', root, undefined);
    ctx.status.root = { containerdId: started.id, pid: started.pid, netns: `/proc/${started.pid}/ns/net`, synthesized: !root };
    if (root) Object.assign(ctx.status.containers[root.metadata.name], running(started));
    const namespace = await ns(ctx);
    return async () => void (await rt.stopTask(namespace, started.id, { signal: 'SIGKILL', timeoutMs: 0 }));
  });

  // Late in attachNetwork, after the network plugin set the cell's IP: /etc/hosts names the cell by it (rewritten in
  // place, so the root, which already runs, sees it too).
  hooks.cell.attachNetwork.tapPromise({ name: NAME, stage: 100 }, async (ctx) => {
    if (ctx.status.ip) writeEtcFiles(rt.etcDir(ctx.ref.path), ctx.ref.path[3], ctx.status.ip);
  });

  hooks.start.for('Container').tapPromise(NAME, async (ctx) => {
    const started = await rt.startTask(ctx.cell, 'workload', ctx.doc, ctx.cell.status.root?.pid);
    Object.assign(ctx.status, running(started));
    const namespace = await ns(ctx);
    return async () => void (await rt.stopTask(namespace, started.id, { signal: 'SIGKILL', timeoutMs: 0 }));
  });

  hooks.update.for('Container').tapPromise(NAME, async (ctx) => {
    const role = ctx.doc.metadata.name === ctx.cell.rootId ? 'root' : 'workload';
    await rt.updateTask(ctx.cell, role, ctx.doc, role === 'root' ? undefined : ctx.cell.status.root?.pid);
  });

  hooks.cell.verify.tapPromise(NAME, async (ctx) => {
    const namespace = await ns(ctx);
    const rootId = ctx.status.root?.containerdId ?? containerdId(ctx.ref.path, ctx.rootId ?? ROOT_LEAF);
    const t = await rt.task(namespace, rootId);
    if (t?.status !== 'RUNNING')
      throw new KukeonError('KUKEON_E_STEP', `the root container exited right after it started${t ? ` (exit ${t.exit_status})` : ''}`, {
        plugin: NAME,
      });
    // Workloads may already have run to completion: that is their state, not a failed start.
    for (const c of ctx.containers) {
      const st = ctx.status.containers[c.metadata.name];
      if (st?.containerdId) Object.assign(st, await rt.liveStatus(namespace, st.containerdId, st));
    }
  });

  const stopContainer = async (ctx: ContainerContext) => {
    const namespace = await ns(ctx);
    const id = ctx.status.containerdId ?? containerdId(ctx.cell.ref.path, ctx.doc.metadata.name);
    const r = await rt.stopTask(namespace, id, ctx.stop ?? { signal: 'SIGTERM', timeoutMs: 10_000 });
    Object.assign(ctx.status, { state: 'Stopped', pid: undefined }, r ? { exitCode: r.exitCode, finishTime: r.finishTime } : {});
  };
  hooks.stop.for('Container').tapPromise(NAME, stopContainer);

  hooks.cell.stopRoot.tapPromise(NAME, async (ctx) => {
    const namespace = await ns(ctx);
    const id = ctx.status.root?.containerdId ?? containerdId(ctx.ref.path, ctx.rootId ?? ROOT_LEAF);
    const r = await rt.stopTask(namespace, id, ctx.stop ?? { signal: 'SIGTERM', timeoutMs: 10_000 });
    ctx.status.root = { ...ctx.status.root, pid: undefined, netns: undefined };
    if (ctx.rootId)
      Object.assign(
        ctx.status.containers[ctx.rootId] ?? {},
        { state: 'Stopped', pid: undefined },
        r ? { exitCode: r.exitCode, finishTime: r.finishTime } : {},
      );
  });

  hooks.delete.for('Container').tapPromise(NAME, async (ctx) => {
    await rt.removeContainer(await ns(ctx), ctx.status.containerdId ?? containerdId(ctx.cell.ref.path, ctx.doc.metadata.name));
  });
  hooks.delete.for('Cell').tapPromise(NAME, async (ctx) => {
    const namespace = await ns(ctx);
    await rt.removeContainer(namespace, containerdId(ctx.ref.path, ROOT_LEAF));
    await sweep(rt, namespace, ctx.ref.path, { images: false, namespace: false });
  });
  hooks.delete.for('Realm').tapPromise(NAME, async (ctx) => {
    await sweep(rt, await ns(ctx), ctx.ref.path, { images: false, namespace: false });
  });
  for (const kind of ['Space', 'Stack', 'Cell'] as const) {
    hooks.purge
      .for(kind)
      .tapPromise(NAME, async (ctx) => void (await sweep(rt, await ns(ctx), ctx.ref.path, { images: false, namespace: false })));
  }
  hooks.purge
    .for('Realm')
    .tapPromise(NAME, async (ctx) => void (await sweep(rt, await ns(ctx), ctx.ref.path, { images: true, namespace: true })));

  hooks.status
    .for('Container')
    .tapPromise(NAME, async (st, ctx) => (st.containerdId ? rt.liveStatus(await ns(ctx), st.containerdId, st) : st));
  hooks.status.for('Cell').tapPromise(NAME, async (cell, ctx) => {
    const namespace = await ns(ctx);
    const containers: Record<string, ContainerStatus> = {};
    for (const [id, st] of Object.entries(cell.containers ?? {})) {
      containers[id] = st.containerdId ? await rt.liveStatus(namespace, st.containerdId, st) : st;
    }
    let { state, reason, message } = cell;
    if (state === 'Ready') {
      const rootId = cell.root?.containerdId;
      const root = rootId ? await rt.task(namespace, rootId).catch(() => undefined) : undefined;
      if (root?.status !== 'RUNNING') state = 'Unknown';
      else {
        const rootName = rootContainerId(ctx.doc.spec);
        const workloads = Object.entries(containers).filter(([id]) => id !== rootName);
        // A workload neither running nor ended (its task is gone: a stop or delete killed halfway) is not Ready.
        const down = workloads.filter(([, c]) => c.state !== 'Ready' && c.state !== 'Exited' && !c.nextRestartAt);
        if (workloads.length && workloads.every(([, c]) => c.state === 'Exited')) state = 'Exited';
        else if (down.length) {
          state = 'Degraded';
          reason = 'ContainersNotRunning';
          message = down.map(([id, c]) => `container ${id} is ${c.state ?? 'not running'} (no running task)`).join('; ');
        }
      }
    }
    return { ...cell, state, reason, message, containers };
  });
}

/**
 * In-process, an attachable container is refused before anything is stored or started (KUKEON_E_NEEDS_DAEMON):
 * nobody would own its terminal once `kuke` exits. A cell stored through kukeond and started here is refused at
 * its start.
 */
function tapInProcessRefusals(host: PluginHost): void {
  host.hooks.validate.tapPromise(NAME, async (ctx) => {
    const doc = ctx.doc;
    const found =
      doc.kind === 'Cell'
        ? doc.spec.containers.findIndex((c) => c.attachable === true && c.id !== rootContainerId(doc.spec))
        : doc.kind === 'Container' && doc.spec.attachable === true
          ? 0
          : -1;
    if (found < 0) return undefined;
    const field = doc.kind === 'Cell' ? `spec.containers[${found}].attachable` : 'spec.attachable';
    const container = doc.kind === 'Cell' ? doc.spec.containers[found].id : doc.metadata.name;
    const e = needsDaemon(ctx, container);
    return new KukeonError(e.code, e.message, { ...e.details, document: ctx.index, kind: doc.kind, name: doc.metadata.name, field });
  });
  host.hooks.start.for('Cell').tapPromise({ name: NAME, stage: -100 }, async (ctx) => {
    const attachable = ctx.containers.find((c) => c.spec.attachable === true && c.metadata.name !== ctx.rootId);
    if (attachable) throw needsDaemon(ctx, attachable.metadata.name);
  });
}

function running(started: { id: string; pid: number; logPath?: string }): ContainerStatus {
  return {
    state: 'Ready',
    pid: started.pid,
    containerdId: started.id,
    startTime: new Date().toISOString(),
    logPath: started.logPath,
    exitCode: undefined,
    finishTime: undefined,
    // why it last ended (Reboot, Error, ...) belongs to that run, not to this one
    reason: undefined,
    message: undefined,
  };
}

export default definePlugin<RuntimeConfig>({
  name: NAME,
  version: '0.1.0',
  slot: 'runtime',
  requires: ['store'],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      socket: {
        type: 'string',
        default: '/run/containerd/containerd.sock',
        description: "containerd's gRPC socket",
        'x-flag': '--containerd-socket',
        'x-env': 'KUKEON_CONTAINERD_SOCKET',
      },
      snapshotter: { type: 'string', default: 'overlayfs', description: 'snapshotter images are unpacked into' },
      runtime: { type: 'string', default: 'io.containerd.runc.v2', description: 'containerd runtime (shim) name' },
      pauseBinary: {
        type: 'string',
        description: "static pause binary for synthesized roots (default: Debian's catatonit)",
        'x-env': 'KUKEON_PAUSE_BINARY',
      },
      allowPrivileged: {
        type: 'boolean',
        default: true,
        description: 'false refuses privileged, hostPID, devices and added capabilities (KUKEON_E_FORBIDDEN); the system realm is exempt',
      },
      registryMirrors: {
        type: 'object',
        additionalProperties: { type: 'string', pattern: '^https?://[^/]+$' },
        description:
          'registry host -> base URL images of that host are pulled from instead (`registry.k8s.io: http://127.0.0.1:5000`); names keep their host',
      },
    },
  },
  apply(host, config) {
    // No connection here: only whether the socket exists decides skip, so a host without containerd boots.
    if (!fs.existsSync(config.socket)) throw new PluginSkip(`containerd socket ${config.socket} not found`);
    const rt = new CellRuntime(host, config);
    tapCell(host, rt);
    if (config.allowPrivileged === false) host.hooks.validate.tapPromise(NAME, async (ctx) => privilegeRefusal(ctx));
    host.hooks.validate.tapPromise(NAME, (ctx) => rt.refusal(ctx));
    if (host.daemon) {
      // kukeond owns the terminals of attachable containers; it re-opens those of tasks that ran on without it
      const consoles = new Consoles(host, rt);
      rt.consoles = consoles;
      host.services.provide('runtime.console', consoles);
      setImmediate(() => consoles.recover().catch((e) => host.log('re-opening terminals: %s', (e as Error).message)));
    } else tapInProcessRefusals(host);
    host.services.provide('runtime.images', {
      load: async (realm, archive) => {
        const ns = await rt.ensureNamespace(realm);
        const { importOciArchive } = require('./image/import-oci-archive') as typeof import('./image/import-oci-archive');
        const images = await importOciArchive(rt.client, ns, archive, {
          snapshotter: config.snapshotter,
          labels: { [LABELS.realm]: realm },
        }).catch((e) => Promise.reject(rt.refused(e, 'import the image archive')));
        return images.map((i) => ({ name: i.name, digest: i.digest, size: i.size }));
      },
      list: async (realm) => {
        const ns = await rt.namespaceOfRealm(realm);
        const images = await rt.client.images.list(ns).catch((e) => Promise.reject(rt.refused(e, 'list images')));
        return Promise.all(
          images.map(async (i) => {
            // the config is read once per digest (cached): what a listing shows of the user is the image's own
            const user = (await rt.imageConfig(ns, i.name).catch(() => undefined))?.config.User;
            return { name: i.name, digest: i.target.digest, size: Number(i.target.size), ...(user ? { user } : {}) };
          }),
        );
      },
      pull: (realm, ref, opts = {}) => rt.pull(realm, ref, opts),
      ensure: (realm, ref, opts) => rt.ensureImage(realm, ref, opts),
      remove: async (realm, ref) => {
        const ns = await rt.namespaceOfRealm(realm);
        const found = await rt.findImage(ns, ref);
        if (!found) throw new KukeonError('KUKEON_E_NOT_FOUND', `image ${ref} is not in realm ${realm}`);
        await rt.client.images.delete(ns, found.name).catch((e) => Promise.reject(rt.refused(e, `remove image ${found.name}`)));
        rt.forgetImages(ns, [found.target]);
      },
      prune: async (realm) => {
        // in use: what containerd's containers of the namespace run, and every image the realm's documents name
        const ns = await rt.namespaceOfRealm(realm);
        const { normalizeName } = require('./image/reference') as typeof import('./image/reference');
        const used = new Set<string>();
        for (const c of await rt.client.containers.list(ns).catch((e) => Promise.reject(rt.refused(e, 'list containers'))))
          if (c.image) used.add(c.image);
        for (const space of await host.state.list('Space', [realm]))
          for (const stack of await host.state.list('Stack', [realm, space.metadata.name]))
            for (const cell of await host.state.list('Cell', [realm, space.metadata.name, stack.metadata.name]))
              for (const c of cell.spec.containers ?? []) if (c.image) used.add(c.image);
        for (const u of [...used]) used.add(normalizeName(u));
        const removed: string[] = [];
        for (const image of await rt.client.images.list(ns)) {
          if (used.has(image.name)) continue;
          await rt.client.images.delete(ns, image.name);
          rt.forgetImages(ns, [image.target.digest]);
          removed.push(image.name);
        }
        return removed;
      },
    });
    host.services.provide(
      'runtime.events',
      exitEvents(() => rt.client, host.log),
    );
    host.services.provide('runtime.tasks', tasks(host, rt, config.socket));
    host.services.provide('runtime.exec', execService(host, rt));
    host.services.provide('runtime.logs', { path: (cellPath, id) => rt.logPath(cellPath, id) });
    host.services.provide('runtime.wait', {
      wait: async (cellPath, id, signal) => {
        const realm = await host.state.get({ kind: 'Realm', path: [cellPath[0]] });
        const ns = await rt.namespaceOfRealm(cellPath[0], realm);
        const doc = await host.state.get({ kind: 'Container', path: [...cellPath, id] });
        const cid = doc?.status?.containerdId ?? containerdId(cellPath, id);
        try {
          const r = await rt.client.tasks.wait(ns, cid, '', { signal });
          return { exitCode: r.exit_status, finishTime: new Date().toISOString() };
        } catch (err) {
          if ((err as { grpcCode?: number }).grpcCode === 5 && doc?.status?.exitCode !== undefined)
            return { exitCode: doc.status.exitCode, finishTime: doc.status.finishTime };
          throw rt.explain(err);
        }
      },
    });
    host.services.provide('runtime.diagnose', { diagnose: () => diagnose(rt, config) });
  },
});
