// What the cgroups plugin does in each phase. Realm, space and stack cgroups come and go with their resource; a
// cell's is made in its prepare step and kept across stop; containers are placed by runc from the OCI spec's
// absolute cgroupsPath. Removal runs after the runtime's taps (stage 100), when runc has removed its leaves.

import { normalizeResources, rootContainerId } from '../../sdk';
import type { AnyDoc, CellDoc, ContainerStatus, KukeonError, OciSpec, PluginHost, Resources, Undo } from '../../sdk';
import type { LimitEntry } from './limits';
import { limitEntries } from './limits';
import { cellRel, cgroupRel, containerLeaf } from './naming';
import { ociResources } from './oci-resources';
import { containerRefusal, levelRefusal } from './refusals';
import { readStats } from './stats';
import type { CgroupTree } from './tree';
import { writeLimits } from './write-limits';

const NAME = 'cgroupv2';
const AFTER_RUNTIME = { name: NAME, stage: 100 };

const entriesOf = (r: Resources | undefined, field: string): LimitEntry[] => limitEntries(normalizeResources(r), field);

/** The validate hook's answer for one document: level limits need cgroup2 controllers, container limits runc's. */
function refusalOf(tree: CgroupTree, doc: AnyDoc): KukeonError | undefined {
  const { layout, v2 } = tree;
  if (doc.kind === 'Container') return containerRefusal(layout, v2, entriesOf(doc.spec.resources, 'spec.resources'));
  const level = levelRefusal(layout, v2, entriesOf(doc.spec.resources, 'spec.resources'));
  if (level || doc.kind !== 'Cell') return level;
  for (const [i, c] of doc.spec.containers.entries()) {
    const refused = containerRefusal(layout, v2, entriesOf(c.resources, `spec.containers[${i}].resources`));
    if (refused) return refused;
  }
  return undefined;
}

/** Makes a level's cgroup (`rel`) and writes its limits; the Undo removes only the cgroups this call created. */
function ensureLevel(tree: CgroupTree, rel: string, resources: Resources | undefined): Undo | undefined {
  const entries = entriesOf(resources, 'spec.resources');
  const refused = levelRefusal(tree.layout, tree.v2, entries);
  if (refused) throw refused; // before any mkdir
  const created = tree.v2.ensure(rel);
  const undo = () => {
    for (const c of [...created].reverse()) tree.v2.rmdir(c);
  };
  try {
    writeLimits(tree.v2, rel, entries);
  } catch (err) {
    undo();
    throw err;
  }
  return created.length ? undo : undefined;
}

export function tapCgroups(host: PluginHost, tree: CgroupTree): void {
  const { hooks } = host;
  const levelRel = (path: readonly string[]) => cgroupRel(tree.root, path);
  const cellOf = (path: readonly string[], cell: CellDoc | undefined, leaf?: string) =>
    cellRel(tree.root, path, cell?.spec.cgroupParent, leaf);

  hooks.validate.tapPromise(NAME, async (ctx) => refusalOf(tree, ctx.doc));

  for (const kind of ['Realm', 'Space', 'Stack'] as const) {
    hooks.create.for(kind).tapPromise(NAME, async (ctx) => {
      const rel = levelRel(ctx.ref.path);
      const undo = ensureLevel(tree, rel, ctx.doc.spec.resources);
      ctx.status.cgroupPath = `/${rel}`;
      return undo;
    });
  }

  // A re-apply of a running cell converges its create taps, not its steps: limits of an existing cell cgroup follow here.
  hooks.create.for('Cell').tapPromise(NAME, async (ctx) => {
    const rel = cellOf(ctx.ref.path, ctx.doc);
    if (tree.v2.exists(rel)) ensureLevel(tree, rel, ctx.doc.spec.resources);
  });

  hooks.cell.prepare.tapPromise(NAME, async (ctx) => {
    const rel = cellOf(ctx.ref.path, ctx.doc);
    ensureLevel(tree, rel, ctx.doc.spec.resources);
    ctx.status.cgroupPath = `/${rel}`;
    for (const c of ctx.containers) {
      const leaf = containerLeaf(ctx.ref.path[3], c.metadata.name, c.metadata.name === ctx.rootId);
      (ctx.status.containers[c.metadata.name] ??= {}).cgroupPath = `/${cellOf(ctx.ref.path, ctx.doc, leaf)}`;
    }
  });

  // a container added to a cell after its prepare (an apply, CRI's CreateContainer) is recorded when it starts
  hooks.start.for('Container').tapPromise(NAME, async (ctx) => {
    const cell = ctx.cell.ref.path;
    const id = ctx.doc.metadata.name;
    ctx.status.cgroupPath = `/${cellOf(cell, ctx.cell.doc, containerLeaf(cell[3], id, id === ctx.cell.rootId))}`;
  });

  hooks.ociSpec.tapPromise(NAME, async (spec: OciSpec, ctx) => {
    const resources = ctx.container?.spec.resources;
    const refused = containerRefusal(tree.layout, tree.v2, entriesOf(resources, `containers.${ctx.container?.metadata.name}.resources`));
    if (refused) throw refused;
    const leaf = containerLeaf(ctx.cell.ref.path[3], ctx.container?.metadata.name, ctx.role === 'root');
    const oci = ociResources(normalizeResources(resources), tree.layout.kind === 'v2');
    const linux = { ...spec.linux, cgroupsPath: `/${cellOf(ctx.cell.ref.path, ctx.cell.doc, leaf)}` };
    if (oci) linux.resources = { ...linux.resources, ...oci };
    return { ...spec, linux };
  });

  for (const kind of ['Realm', 'Space', 'Stack', 'Cell'] as const) {
    // A forced delete (and the delete that starts a purge) does not leave processes behind in a tree kukeon forgets.
    const relOf = (ctx: { ref: { path: readonly string[] }; doc: AnyDoc }) =>
      ctx.doc.kind === 'Cell' ? cellOf(ctx.ref.path, ctx.doc) : levelRel(ctx.ref.path);
    hooks.delete.for(kind).tapPromise(AFTER_RUNTIME, async (ctx) => {
      if (ctx.force) await tree.purge(relOf(ctx));
      else await tree.removeWhenEmpty(relOf(ctx));
      if (kind === 'Realm') tree.removeRootIfEmpty();
    });
    hooks.purge.for(kind).tapPromise(AFTER_RUNTIME, async (ctx) => {
      await tree.purge(relOf(ctx));
      if (kind === 'Realm') tree.removeRootIfEmpty();
    });
  }
  // runc removes a container's leaf on task delete; this catches what it left (a container dropped from a cell).
  hooks.delete.for('Container').tapPromise(AFTER_RUNTIME, async (ctx) => {
    const cell = ctx.cell.ref.path;
    const rel = cellOf(cell, ctx.cell.doc, containerLeaf(cell[3], ctx.doc.metadata.name, ctx.doc.metadata.name === ctx.cell.rootId));
    if (ctx.force) await tree.purge(rel);
    else await tree.removeWhenEmpty(rel);
  });

  hooks.status.for('Cell').tapPromise(NAME, async (cell, ctx) => {
    const path = ctx.ref.path;
    const rootId = rootContainerId(ctx.doc.spec);
    const containers: Record<string, ContainerStatus> = {};
    for (const [id, st] of Object.entries(cell.containers ?? {})) {
      containers[id] = { ...st, stats: readStats(tree, cellOf(path, ctx.doc, containerLeaf(path[3], id, id === rootId))) };
    }
    return { ...cell, stats: readStats(tree, cellOf(path, ctx.doc)), containers };
  });
  hooks.status.for('Container').tapPromise(NAME, async (status, ctx) => {
    const path = ctx.ref.path;
    const id = path[4];
    const isRoot = !!ctx.doc.spec.root || rootContainerId(ctx.parents.cell?.spec) === id;
    const rel = cellOf(path.slice(0, 4), ctx.parents.cell, containerLeaf(path[3], id, isRoot));
    return { ...status, stats: readStats(tree, rel) };
  });
}
