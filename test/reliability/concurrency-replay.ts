// The expected tree of the concurrency suite: every committed write (an apply item or a removal, each with the
// store revision that committed it) replayed in commit order. A put sets a resource's fingerprint; an implicit
// parent is made only where nothing is (it must never replace a resource); a removal takes one resource, which
// must have no children left by then (a cascade removes children first, each its own commit). Whatever breaks
// those rules is a lost update, named with the writes involved.

/** What one committed write did to the tree (paths are `realm/space/stack/cell`). */
export type TreeOp =
  | { type: 'put'; path: string; print: string }
  | { type: 'implicit'; path: string; print: string }
  | { type: 'remove'; path: string }
  /** One container set in a stored cell (a Container document): the cell keeps its label and other containers. */
  | { type: 'container'; path: string; id: string; arg: string };

export interface Committed {
  commit: number;
  op: TreeOp;
  /** The operation that reported it (for messages). */
  by: string;
}

export interface Replayed {
  tree: Map<string, string>;
  /** Writes that broke the rules above: each one is an update some operation lost. */
  lost: string[];
  /** Commits reported by more than one write: the order would be ambiguous. */
  duplicates: string[];
}

/** Replays `writes` in commit order over `initial` (the tree before the first of them). */
export function replayTree(writes: Committed[], initial: [string, string][] = []): Replayed {
  const tree = new Map<string, string>(initial);
  const writer = new Map<string, string>(initial.map(([p]) => [p, 'the set-up']));
  const lost: string[] = [];
  const duplicates: string[] = [];
  const seen = new Map<number, string>();
  const sorted = [...writes].sort((a, b) => a.commit - b.commit);
  for (const w of sorted) {
    const other = seen.get(w.commit);
    if (other !== undefined) duplicates.push(`commit ${w.commit}: ${other} and ${w.by} ${w.op.type} ${w.op.path}`);
    seen.set(w.commit, `${w.by} ${w.op.type} ${w.op.path}`);
    const { path } = w.op;
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : undefined;
    const at = `commit ${w.commit} (${w.by})`;
    if (w.op.type === 'remove') {
      if (!tree.has(path)) lost.push(`${at} removed ${path}, which no earlier committed write made`);
      const under = [...tree.keys()].filter((p) => p.startsWith(`${path}/`));
      for (const p of under) lost.push(`${at} removed ${path} and with it ${p}, written at ${writer.get(p)}`);
      for (const p of [path, ...under]) {
        tree.delete(p);
        writer.delete(p);
      }
      continue;
    }
    if (w.op.type === 'container') {
      const cell = tree.get(path);
      if (cell === undefined) {
        lost.push(`${at} set container ${w.op.id} in ${path}, which did not exist`);
        continue;
      }
      tree.set(path, withContainer(cell, w.op.id, w.op.arg));
      writer.set(path, at);
      continue;
    }
    if (parent !== undefined && !tree.has(parent)) lost.push(`${at} wrote ${path} while its parent ${parent} did not exist`);
    if (w.op.type === 'implicit' && tree.has(path)) {
      lost.push(`${at} made ${path} as an implicit parent over the one written at ${writer.get(path)} (${tree.get(path)})`);
      continue;
    }
    tree.set(path, w.op.print);
    writer.set(path, at);
  }
  return { tree, lost, duplicates };
}

/** A cell's fingerprint (`op=X;containers=a:1,b:2`) with container `id` set to `arg`, containers kept sorted. */
function withContainer(print: string, id: string, arg: string): string {
  const [head, list = ''] = print.split(';containers=');
  const containers = new Map(list ? list.split(',').map((c) => c.split(':') as [string, string]) : []);
  containers.set(id, arg);
  const sorted = [...containers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([c, v]) => `${c}:${v}`);
  return `${head};containers=${sorted.join(',')}`;
}
