// The host's secret taps: at every container start (its OCI spec, after every other tap so the process's final
// uid and gid are known) the secrets are read and handed over, a mounted one staged and bind-mounted read-only,
// the others added to the environment; the staged files go when the container stops, is deleted or purged.

import { KukeonError } from '../../../sdk';
import type { CellContext, ContainerContext, OciSpec, OciSpecContext, ResourceContext } from '../../../sdk';
import type { HostHooks } from '../hooks';
import { scopeOf } from '../operation-scope';
import { resolveSecrets } from './resolve-secrets';
import type { SecretStaging } from './secret-staging';
import type { SecretStore } from './secret-store';

const TAP = 'kukeon:secrets';
/** After the runtime (-100), the cgroups plugin (0) and add-ons: the process's user is final by then. */
const LATE = 1000;

export interface SecretTapDeps {
  secrets: SecretStore;
  staging: SecretStaging;
  env: NodeJS.ProcessEnv;
}

export function tapSecrets(hooks: HostHooks, d: SecretTapDeps): void {
  hooks.ociSpec.tapPromise({ name: TAP, stage: LATE }, async (value: unknown, context: unknown) => {
    const spec = value as OciSpec;
    const ctx = context as OciSpecContext;
    const declared = ctx.container?.spec.secrets ?? [];
    if (!declared.length) return spec;
    const cellPath = ctx.cell.ref.path;
    const id = ctx.container!.metadata.name;
    const where = `container ${id} of cell/${cellPath.join('/')}`;
    const values = await resolveSecrets(declared, where, d.secrets, d.env);
    const files = values.filter((v) => v.mountPath !== undefined);
    const staged = files.length
      ? d.staging.stage(cellPath, id, ctx.containerdId, files, spec.process?.user.uid ?? 0, spec.process?.user.gid ?? 0)
      : new Map<string, string>();
    // a start that fails after this (its task, a later container, verify) takes the staged files back with it
    if (files.length) scopeOf(ctx.cell)?.undo.push(`${TAP}@ociSpec`, async () => void d.staging.remove(cellPath, id));
    const mounts = (spec.mounts ?? []).filter((m) => !files.some((f) => f.mountPath === m.destination));
    for (const f of files)
      mounts.push({
        destination: f.mountPath!,
        type: 'bind',
        source: staged.get(f.name)!,
        options: ['rbind', 'rprivate', 'ro', 'nosuid', 'nodev', 'noexec'],
      });
    const vars = values.filter((v) => v.mountPath === undefined);
    for (const v of vars)
      if (v.value.includes(0))
        throw new KukeonError(
          'KUKEON_E_STEP',
          `${where}: secret "${v.name}" holds a NUL byte, which an environment variable cannot; use mountPath`,
        );
    const env = (spec.process?.env ?? []).filter((kv) => !vars.some((v) => kv.split('=')[0] === v.name));
    for (const v of vars) env.push(`${v.name}=${v.value.toString('utf8')}`);
    return { ...spec, mounts, process: spec.process && { ...spec.process, env } };
  });

  const remove = (scope: readonly string[], container?: string) => void d.staging.remove(scope, container);
  // after the runtime's own stop and delete taps (stage 0): the task is gone when its file goes
  const after = { name: TAP, stage: 100 };
  hooks.stop.for('Container').tapPromise(after, async (c: unknown) => {
    const ctx = c as ContainerContext;
    if (ctx.doc.spec.secrets?.length) remove(ctx.cell.ref.path, ctx.doc.metadata.name);
  });
  hooks.cell.stopRoot.tapPromise(after, async (c: unknown) => {
    const ctx = c as CellContext;
    const root = ctx.containers.find((x) => x.metadata.name === ctx.rootId);
    if (root?.spec.secrets?.length) remove(ctx.ref.path, root.metadata.name);
  });
  hooks.delete.for('Container').tapPromise(after, async (c: unknown) => {
    const ctx = c as ContainerContext;
    remove(ctx.cell.ref.path, ctx.doc.metadata.name);
  });
  for (const kind of ['Realm', 'Space', 'Stack', 'Cell'] as const) {
    const sweep = async (c: unknown) => remove((c as ResourceContext<'Realm'> | CellContext).ref.path);
    hooks.delete.for(kind).tapPromise(after, sweep);
    hooks.purge.for(kind).tapPromise(after, sweep);
  }
}
