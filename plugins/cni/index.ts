// The cni plugin (slot `network`): one network per space (its own bridge, subnet and conflist), each cell's root
// attached with the CNI plugin binaries, run by kukeon itself per the CNI specification. It taps the space and
// cell phases and the cell's attachNetwork/detachNetwork steps, and provides network.diagnose.

import fs from 'node:fs';
import path from 'node:path';
import { Ipv4Cidr, KukeonError, PluginSkip, definePlugin, refOf } from '../../sdk';
import type { PlanItem, PluginHost, SpaceDoc, SpaceStatus } from '../../sdk';
import { CellNetworks, portMappings } from './cell-network';
import { CniRunner } from './cni-runner';
import { CNI_CONFIG_SCHEMA } from './config';
import type { CniConfig } from './config';
import { diagnose } from './diagnose';
import { HostCommand } from './host-command';
import { Isolation } from './isolation';
import { ResultCache } from './result-cache';
import { SpaceNetworks } from './space-network';
import { SpaceRegistry } from './space-registry';
import { sweepCells, sweepRealm } from './sweep';
import type { SweepDeps } from './sweep';

const NAME = 'cni';

function tap(host: PluginHost, config: CniConfig, spaces: SpaceNetworks, cells: CellNetworks, sweep: SweepDeps): void {
  const { hooks } = host;

  // A conflicting space (conflist file, subnet) is refused before anything is written; create decides again under the lock.
  hooks.validate.tapPromise(NAME, async (ctx) => (ctx.doc.kind === 'Space' ? spaces.refusal(ctx.ref, ctx.doc) : undefined));
  hooks.create.for('Space').tapPromise(NAME, async (ctx) => spaces.ensure(ctx.ref, ctx.doc, ctx.status));
  const removeSpace = async (ctx: { ref: { path: readonly string[] }; doc: SpaceDoc; status: SpaceStatus }) => {
    const [realm, space] = ctx.ref.path;
    await sweepCells(sweep, realm, space, [realm, space]);
    await spaces.remove(realm, space, ctx.doc);
    ctx.status.network = undefined;
  };
  hooks.delete.for('Space').tapPromise(NAME, removeSpace);
  hooks.purge.for('Space').tapPromise(NAME, removeSpace);
  hooks.purge.for('Realm').tapPromise(NAME, async (ctx) => void (await sweepRealm(sweep, ctx.ref.path[0])));
  hooks.purge.for('Stack').tapPromise(NAME, async (ctx) => void (await sweepCells(sweep, ctx.ref.path[0], ctx.ref.path[1], ctx.ref.path)));

  hooks.cell.attachNetwork.tapPromise(NAME, async (ctx) => cells.attach(ctx));
  hooks.cell.detachNetwork.tapPromise(NAME, async (ctx) => cells.detach(ctx.ref, ctx.status, ctx.parents.space));
  hooks.delete.for('Cell').tapPromise(NAME, async (ctx) => cells.detach(ctx.ref, ctx.status, ctx.parents.space));
  hooks.purge.for('Cell').tapPromise(NAME, async (ctx) => {
    await cells.detach(ctx.ref, ctx.status, ctx.parents.space, true);
    await sweepCells(sweep, ctx.ref.path[0], ctx.ref.path[1], ctx.ref.path);
  });

  // After the runtime's status tap: refresh checks attachments and repairs a space's files; get is left untouched.
  hooks.status
    .for('Space')
    .tapPromise({ name: NAME, stage: 10 }, async (status, ctx) =>
      ctx.purpose === 'refresh' ? spaces.repair(ctx.ref, ctx.doc, status) : status,
    );
  hooks.status
    .for('Cell')
    .tapPromise({ name: NAME, stage: 10 }, async (status, ctx) =>
      ctx.purpose === 'refresh' ? cells.check(ctx.ref, status, ctx.parents.space) : status,
    );

  hooks.plan.tapPromise(NAME, async (items, ctx) => {
    const extra: PlanItem[] = [];
    ctx.docs.forEach((doc, i) => {
      const ref = refOf(doc);
      if (doc.kind === 'Space' && !ctx.current[i]) {
        extra.push({
          ref,
          by: NAME,
          action: 'write',
          detail: `conflist ${doc.spec.cniConfigPath ?? path.join(config.confDir, `${doc.spec.realmId}-${doc.metadata.name}.conflist`)}, subnet ${doc.spec.network?.subnet ?? `from ${config.subnetPool}`}`,
        });
      }
      if (doc.kind === 'Cell') {
        const ports = portMappings(
          doc.spec.containers.map((c) => ({ apiVersion: 'v1beta1', kind: 'Container', metadata: { name: c.id }, spec: c })),
        );
        if (ports.length)
          extra.push({
            ref,
            by: NAME,
            action: 'note',
            detail: `publishes ${ports.map((p) => `${p.hostIP ? `${p.hostIP}:` : ''}${p.hostPort}/${p.protocol} -> ${p.containerPort}`).join(', ')}`,
          });
      }
    });
    return [...items, ...extra];
  });
}

export default definePlugin<CniConfig>({
  name: NAME,
  version: '0.1.0',
  slot: 'network',
  requires: ['runtime'],
  configSchema: CNI_CONFIG_SCHEMA,
  apply(host, config) {
    if (process.platform !== 'linux') throw new PluginSkip(`CNI networks need Linux (this is ${process.platform})`);
    if (!config.binDirs.some((d) => fs.existsSync(d))) throw new PluginSkip(`no CNI plugin directory (${config.binDirs.join(', ')})`);
    if (!Ipv4Cidr.parse(config.subnetPool)) {
      throw new KukeonError('KUKEON_E_CONFIG', `plugins.cni.subnetPool: ${Ipv4Cidr.problem(config.subnetPool)}`, {
        plugin: NAME,
        field: 'plugins.cni.subnetPool',
      });
    }
    const cmd = new HostCommand();
    const runner = new CniRunner({ binDirs: config.binDirs, timeoutMs: (config.timeoutSeconds ?? 60) * 1000 });
    const cache = new ResultCache(config.cacheDir);
    const registry = new SpaceRegistry(path.join(host.paths.runtimeDir, 'cni', 'spaces.json'), host.locks);
    const isolation = new Isolation(cmd, host.locks);
    const spaces = new SpaceNetworks({ host, config, registry, isolation, cmd, cache });
    const cells = new CellNetworks({ runner, cache, spaces });
    tap(host, config, spaces, cells, { config, spaces, cells, cache, registry });
    host.services.provide('network.diagnose', { diagnose: () => diagnose(config, runner, cmd) });
  },
});
