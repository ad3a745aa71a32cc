// `kuke tree`: the hierarchy realm > space > stack > cell > container as an indented tree, each line with the
// resource's state and what a user looks for at that level (a space's subnet, a cell's IP, the limits, a
// container's restarts and reason). Box-drawing characters on a terminal, plain ASCII otherwise.

import type { AnyDoc, CellDoc, Resources } from '../../../sdk';

const UNICODE = { tee: '├── ', last: '└── ', bar: '│   ', gap: '    ' };
const ASCII = { tee: '|-- ', last: '`-- ', bar: '|   ', gap: '    ' };

interface Node {
  label: string;
  children: Node[];
}

/** `cpu.max 20000 100000, memory.max 64Mi`: the limits a level sets, empty when none. */
function limits(r: Resources | undefined): string {
  if (!r) return '';
  const out: string[] = [];
  if (r.cpu?.max !== undefined) out.push(`cpu.max ${r.cpu.max}`);
  if (r.cpu?.weight !== undefined) out.push(`cpu.weight ${r.cpu.weight}`);
  if (r.memory?.max !== undefined) out.push(`memory.max ${r.memory.max}`);
  if (r.memory?.high !== undefined) out.push(`memory.high ${r.memory.high}`);
  if (r.pids?.max !== undefined) out.push(`pids.max ${r.pids.max}`);
  if (r.io?.weight !== undefined) out.push(`io.weight ${r.io.weight}`);
  return out.join(', ');
}

const line = (...parts: (string | undefined)[]) => parts.filter((p) => p).join('  ');
const spec = (d: AnyDoc) => d.spec as { realmId?: string; spaceId?: string; stackId?: string; resources?: Resources };

function cellNode(cell: CellDoc): Node {
  const s = cell.status ?? {};
  const containers = (cell.spec.containers ?? []).map((c) => {
    const st = s.containerStatuses?.find((x) => x.name === c.id);
    const restarts = st?.restartCount ? `restarts ${st.restartCount}` : undefined;
    return {
      label: line(`${c.id}${c.root ? ' (root)' : ''}`, st?.state ?? 'Unknown', st?.reason, restarts, limits(c.resources)),
      children: [],
    };
  });
  return { label: line(`cell/${cell.metadata.name}`, s.state ?? 'Unknown', s.ip, limits(cell.spec.resources)), children: containers };
}

/** The tree of the given documents (every level's list, as `get -A` returns them). */
export function treeText(docs: { realms: AnyDoc[]; spaces: AnyDoc[]; stacks: AnyDoc[]; cells: CellDoc[] }, unicode: boolean): string {
  const roots: Node[] = docs.realms.map((realm) => {
    const r = realm.metadata.name;
    return {
      label: line(`realm/${r}`, realm.status?.state),
      children: docs.spaces
        .filter((sp) => spec(sp).realmId === r)
        .map((space) => {
          const sp = space.metadata.name;
          const subnet = (space.status as { network?: { subnet?: string } } | undefined)?.network?.subnet;
          return {
            label: line(`space/${sp}`, space.status?.state, subnet, limits(spec(space).resources)),
            children: docs.stacks
              .filter((st) => spec(st).realmId === r && spec(st).spaceId === sp)
              .map((stack) => {
                const st = stack.metadata.name;
                return {
                  label: line(`stack/${st}`, stack.status?.state, limits(spec(stack).resources)),
                  children: docs.cells.filter((c) => c.spec.realmId === r && c.spec.spaceId === sp && c.spec.stackId === st).map(cellNode),
                };
              }),
          };
        }),
    };
  });
  const g = unicode ? UNICODE : ASCII;
  const out: string[] = [];
  const walk = (nodes: Node[], prefix: string) =>
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      out.push(`${prefix}${last ? g.last : g.tee}${n.label}`);
      walk(n.children, prefix + (last ? g.gap : g.bar));
    });
  for (const root of roots) {
    out.push(root.label);
    walk(root.children, '');
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
