// Isolation between spaces, with iptables in the network namespace kukeon runs in. Each space has a filter chain
// `KUKEON-<bridge>` reached from `KUKEON-FORWARD` (first in FORWARD) for traffic going out to its bridge:
//   replies (conntrack ESTABLISHED,RELATED) -> ACCEPT; from its own bridge -> ACCEPT;
//   from the bridges of the spaces in spec.network.allowFrom -> ACCEPT; from any other kukeon bridge (kk-+) -> DROP.
// Anything else (the host, published ports, the outside) falls through to the host's own rules. With masquerade on,
// `KUKEON-POSTROUTING` (nat) masquerades the space's subnet when it leaves through a non-kukeon interface.
// Every change is one `iptables-restore --noflush` transaction computed from the current rules (`iptables -S`),
// under one named lock: three processes per change, and no moment where a space's chain is half written.

import { KukeonError } from '../../sdk';
import type { Locks } from '../../sdk';
import type { HostCommand } from './host-command';
import { BRIDGE_PREFIX } from './naming';

export const FORWARD_CHAIN = 'KUKEON-FORWARD';
export const POSTROUTING_CHAIN = 'KUKEON-POSTROUTING';
const LOCK = 'cni.iptables';
/** Edits are short, but many processes may queue for them (spaces created at once). */
const LOCK_WAIT = { timeoutMs: 60_000 };
const ANY_KUKEON_BRIDGE = `${BRIDGE_PREFIX}+`;

export interface SpaceRules {
  /** `realm/space`, in rule comments. */
  owner: string;
  bridge: string;
  chain: string;
  subnet?: string;
  /** Bridges (and who they are) whose traffic may enter. */
  allow: { bridge: string; from: string }[];
  masquerade: boolean;
}

/** One table as `iptables -S` prints it: its chains and its rules (`-A ...` lines, as printed). */
interface Table {
  chains: Set<string>;
  rules: string[];
}

const comment = (owner: string) => `"kukeon ${owner}"`;

export class Isolation {
  constructor(
    private readonly cmd: HostCommand,
    private readonly locks: Locks,
  ) {}

  private async read(table: 'filter' | 'nat'): Promise<Table> {
    const r = await this.cmd.run('iptables', ['-w', '-t', table, '-S']);
    if (r.code !== 0)
      throw new KukeonError('KUKEON_E_CNI', `iptables -t ${table} -S failed: ${r.stderr.trim()}`, {
        plugin: 'cni',
        hint: 'kuke doctor checks iptables',
      });
    const lines = r.stdout.split('\n');
    return {
      chains: new Set(lines.filter((l) => l.startsWith('-N ') || l.startsWith('-P ')).map((l) => l.split(' ')[1])),
      rules: lines.filter((l) => l.startsWith('-A ')),
    };
  }

  private async restore(sections: { table: string; lines: string[] }[]): Promise<void> {
    const text = sections.filter((s) => s.lines.length).flatMap((s) => [`*${s.table}`, ...s.lines, 'COMMIT']);
    if (!text.length) return;
    const r = await this.cmd.run('iptables-restore', ['-w', '--noflush'], `${text.join('\n')}\n`);
    if (r.code !== 0)
      throw new KukeonError('KUKEON_E_CNI', `iptables-restore failed: ${r.stderr.trim()}`, {
        plugin: 'cni',
        hint: 'kuke doctor checks iptables',
      });
  }

  /** The owner's masquerade rules, as printed. */
  private static masqueradeOf(nat: Table, owner: string): string[] {
    return nat.rules.filter((l) => l.startsWith(`-A ${POSTROUTING_CHAIN} `) && l.includes(`--comment ${comment(owner)}`));
  }

  /** Lines removing a top chain and its jumps once `removing` takes its last rules away. */
  private static dropTopIfEmpty(t: Table, parent: string, top: string, removing: string[]): string[] {
    if (!t.chains.has(top)) return [];
    const left = t.rules.filter((l) => l.startsWith(`-A ${top} `) && !removing.includes(l));
    if (left.length) return [];
    const jumps = t.rules.filter((l) => l === `-A ${parent} -j ${top}`).map(() => `-D ${parent} -j ${top}`);
    return [...jumps, `-X ${top}`];
  }

  /** Creates or replaces the space's rules. */
  async apply(s: SpaceRules): Promise<void> {
    await this.locks.with(
      LOCK,
      async () => {
        const filter = await this.read('filter');
        const nat = await this.read('nat');
        const f: string[] = [];
        if (!filter.chains.has(FORWARD_CHAIN)) f.push(`:${FORWARD_CHAIN} - [0:0]`);
        if (!filter.rules.includes(`-A FORWARD -j ${FORWARD_CHAIN}`)) f.push(`-I FORWARD 1 -j ${FORWARD_CHAIN}`);
        // Declaring an existing chain in --noflush mode flushes it: the space's chain is replaced in this transaction.
        f.push(
          `:${s.chain} - [0:0]`,
          `-A ${s.chain} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
          `-A ${s.chain} -i ${s.bridge} -j ACCEPT`,
          ...s.allow.map((a) => `-A ${s.chain} -i ${a.bridge} -m comment --comment "kukeon allow from ${a.from}" -j ACCEPT`),
          `-A ${s.chain} -i ${ANY_KUKEON_BRIDGE} -m comment --comment "kukeon isolation of ${s.owner}" -j DROP`,
        );
        const jump = `-A ${FORWARD_CHAIN} -o ${s.bridge} -j ${s.chain}`;
        if (!filter.rules.includes(jump)) f.push(jump);

        const n: string[] = [];
        const mine = Isolation.masqueradeOf(nat, s.owner);
        const wanted =
          s.masquerade && s.subnet
            ? `-A ${POSTROUTING_CHAIN} -s ${s.subnet} ! -o ${ANY_KUKEON_BRIDGE} -m comment --comment ${comment(s.owner)} -j MASQUERADE`
            : undefined;
        const keep = wanted ? mine.findIndex((l) => l.includes(`-s ${s.subnet} `)) : -1;
        const stale = mine.filter((_, i) => i !== keep);
        n.push(...stale.map((l) => `-D${l.slice(2)}`));
        if (wanted) {
          if (!nat.chains.has(POSTROUTING_CHAIN)) n.push(`:${POSTROUTING_CHAIN} - [0:0]`);
          if (!nat.rules.includes(`-A POSTROUTING -j ${POSTROUTING_CHAIN}`)) n.push(`-A POSTROUTING -j ${POSTROUTING_CHAIN}`);
          if (keep < 0) n.push(wanted);
        } else {
          n.push(...Isolation.dropTopIfEmpty(nat, 'POSTROUTING', POSTROUTING_CHAIN, stale));
        }
        await this.restore([
          { table: 'filter', lines: f },
          { table: 'nat', lines: n },
        ]);
      },
      LOCK_WAIT,
    );
  }

  /** Removes the space's rules and chain, and the top chains once no space uses them; absent parts are fine. */
  async remove(s: Pick<SpaceRules, 'owner' | 'bridge' | 'chain'>): Promise<void> {
    await this.locks.with(
      LOCK,
      async () => {
        const filter = await this.read('filter');
        const nat = await this.read('nat');
        const jumps = filter.rules.filter((l) => l === `-A ${FORWARD_CHAIN} -o ${s.bridge} -j ${s.chain}`);
        const f = jumps.map((l) => `-D${l.slice(2)}`);
        if (filter.chains.has(s.chain)) f.push(`-F ${s.chain}`, `-X ${s.chain}`);
        f.push(...Isolation.dropTopIfEmpty(filter, 'FORWARD', FORWARD_CHAIN, jumps));
        const masq = Isolation.masqueradeOf(nat, s.owner);
        const n = [...masq.map((l) => `-D${l.slice(2)}`), ...Isolation.dropTopIfEmpty(nat, 'POSTROUTING', POSTROUTING_CHAIN, masq)];
        await this.restore([
          { table: 'filter', lines: f },
          { table: 'nat', lines: n },
        ]);
      },
      LOCK_WAIT,
    );
  }
}
