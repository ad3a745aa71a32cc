// `kuke describe` as text (kubectl describe's layout): the resource's identity and state, its spec and status as
// indented fields, a cell's containers one by one, and the events the daemon kept. No YAML library: the daemon's
// client path stays small.

import { refOf } from '../../../sdk';
import type { CellContainerStatus, ContainerSpec, DescribeResult, Ref, ResourceEvent } from '../../../sdk';
import { age, containerReason } from './columns';
import { renderTable } from './table';

const NOT_KEPT = 'not kept in-process: only the daemon keeps history (use kukeond: drop --no-daemon/--run-path)';

export function describeText(result: DescribeResult, now = Date.now()): string {
  const { doc } = result;
  const status = (doc.status ?? {}) as Record<string, unknown>;
  const out: string[] = [];
  const field = (label: string, value: unknown) => {
    if (value !== undefined && value !== '') out.push(`${`${label}:`.padEnd(14)}${value}`);
  };
  field('Name', doc.metadata.name);
  field('Kind', doc.kind);
  field('Path', refOf(doc).path.join('/'));
  const labels = Object.entries(doc.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  field('Labels', labels.length ? labels.join(',') : '<none>');
  field('State', status.state ?? 'Unknown');
  field('Reason', status.reason);
  field('Message', status.message);
  if (typeof status.createdAt === 'string') field('Created', `${status.createdAt} (${age(status.createdAt, now)} ago)`);

  const { containers, ...spec } = doc.spec as unknown as Record<string, unknown> & { containers?: ContainerSpec[] };
  out.push('Spec:', ...fields(spec, 1));
  // state, reason, message and createdAt are printed above
  const {
    containerStatuses,
    createdAt: _c,
    state: _s,
    reason: _r,
    message: _m,
    ...rest
  } = status as { containerStatuses?: CellContainerStatus[]; createdAt?: string; state?: string; reason?: string; message?: string };
  const statusLines = fields(rest, 1);
  out.push(`Status:${statusLines.length ? '' : ' <none>'}`, ...statusLines);

  if (doc.kind === 'Cell') {
    out.push(`Containers:${containers?.length ? '' : ' <none>'}`);
    for (const c of containers ?? [])
      out.push(
        ...containerLines(
          c,
          containerStatuses?.find((s) => s.name === c.id),
          now,
        ),
      );
  }

  if (!result.events) out.push(`Events:       ${NOT_KEPT}`);
  else if (!result.events.length) out.push('Events:       <none>');
  else out.push('Events:', ...eventTable(result.events, refOf(doc), now));
  return `${out.join('\n')}\n`;
}

function containerLines(spec: ContainerSpec, s: CellContainerStatus | undefined, now: number): string[] {
  const lines = [`  ${spec.id}${s?.root || spec.root ? ' (root)' : ''}:`];
  const field = (label: string, value: unknown) => {
    if (value !== undefined && value !== '') lines.push(`    ${`${label}:`.padEnd(16)}${value}`);
  };
  field('Image', spec.image);
  field('Command', [spec.command, ...(spec.args ?? [])].filter((x) => x !== undefined).join(' ') || undefined);
  field('State', s?.state ?? 'Unknown');
  const reason = s ? containerReason(s) : '-';
  field('Reason', reason === '-' ? undefined : reason);
  field('Message', s?.message);
  field('Started', s?.startTime && `${s.startTime} (${age(s.startTime, now)} ago)`);
  field('Finished', s?.finishTime && `${s.finishTime} (${age(s.finishTime, now)} ago)`);
  field('Restarts', s?.restartCount ?? 0);
  field('Last restart', s?.restartTime);
  field('Next restart', s?.nextRestartAt);
  if (spec.restartPolicy) {
    const extra = [
      spec.restartPolicy === 'on-failure' && spec.restartMaxRetries !== undefined ? `max ${spec.restartMaxRetries}` : '',
      spec.restartBackoffSeconds !== undefined ? `backoff ${spec.restartBackoffSeconds}s` : '',
    ].filter(Boolean);
    field('Restart policy', `${spec.restartPolicy}${extra.length ? ` (${extra.join(', ')})` : ''}`);
  }
  const {
    id: _i,
    image: _im,
    command: _cm,
    args: _a,
    restartPolicy: _p,
    restartMaxRetries: _m,
    restartBackoffSeconds: _b,
    root: _r,
    ...more
  } = spec;
  const extra = fields(more as Record<string, unknown>, 2);
  if (extra.length) lines.push('    Spec:', ...extra.map((l) => `  ${l}`));
  return lines;
}

function eventTable(events: ResourceEvent[], self: Ref, now: number): string[] {
  const object = (ref: Ref) =>
    ref.kind === self.kind && ref.path.join('/') === self.path.join('/')
      ? ref.kind.toLowerCase()
      : `${ref.kind.toLowerCase()}/${ref.path[ref.path.length - 1]}`;
  const table = renderTable(
    ['AGE', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    events.map((e) => [age(e.time, now), e.type, e.reason, object(e.ref), e.message]),
  );
  return table
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`);
}

/** Nested fields as indented `key: value` lines; unset values are left out. */
function fields(value: Record<string, unknown>, depth: number): string[] {
  const pad = '  '.repeat(depth);
  const lines: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      if (v.every((x) => typeof x !== 'object' || x === null)) lines.push(`${pad}${key}: [${v.map((x) => JSON.stringify(x)).join(', ')}]`);
      else {
        lines.push(`${pad}${key}:`);
        for (const item of v) {
          const inner = fields(item as Record<string, unknown>, depth + 2);
          if (inner.length) lines.push(`${pad}  - ${inner[0].trimStart()}`, ...inner.slice(1));
        }
      }
    } else if (typeof v === 'object') {
      const inner = fields(v as Record<string, unknown>, depth + 1);
      if (inner.length) lines.push(`${pad}${key}:`, ...inner);
    } else lines.push(`${pad}${key}: ${v}`);
  }
  return lines;
}
