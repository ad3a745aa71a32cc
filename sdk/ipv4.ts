// IPv4 addresses and CIDR blocks, as validation and network plugins read them: dotted quads only (no leading
// zeros, no shorthand), a prefix 0..32, arithmetic on unsigned 32-bit numbers.

const QUAD = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;

/** One IPv4 block: its network address (a number) and prefix length. */
export class Ipv4Cidr {
  private constructor(
    readonly network: number,
    readonly prefix: number,
  ) {}

  /** `10.90.0.1` as an unsigned number, or undefined when it is not a dotted quad. */
  static parseAddress(text: string): number | undefined {
    const m = QUAD.exec(text);
    if (!m) return undefined;
    const parts = m.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
  }

  static formatAddress(n: number): string {
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }

  static mask(prefix: number): number {
    return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  }

  /** Why `text` is not an IPv4 network in CIDR form (host bits zero), or undefined when it is. */
  static problem(text: unknown, minPrefix = 0, maxPrefix = 32): string | undefined {
    if (typeof text !== 'string') return 'must be a string such as 10.90.0.0/24';
    const [addr, len, extra] = text.split('/');
    if (extra !== undefined || len === undefined || !/^(0|[1-9][0-9]?)$/.test(len)) return 'must be an IPv4 CIDR such as 10.90.0.0/24';
    const ip = Ipv4Cidr.parseAddress(addr);
    if (ip === undefined) return `"${addr}" is not an IPv4 address`;
    const prefix = Number(len);
    if (prefix > 32) return 'the prefix length is above 32';
    if (prefix < minPrefix || prefix > maxPrefix) return `the prefix length must be between ${minPrefix} and ${maxPrefix}`;
    const network = (ip & Ipv4Cidr.mask(prefix)) >>> 0;
    if (network !== ip) return `has host bits set (the network is ${Ipv4Cidr.formatAddress(network)}/${prefix})`;
    return undefined;
  }

  /** The block, or undefined when `text` is not valid per problem(). */
  static parse(text: string): Ipv4Cidr | undefined {
    if (Ipv4Cidr.problem(text) !== undefined) return undefined;
    const [addr, len] = text.split('/');
    return new Ipv4Cidr(Ipv4Cidr.parseAddress(addr)!, Number(len));
  }

  static of(network: number, prefix: number): Ipv4Cidr {
    return new Ipv4Cidr((network & Ipv4Cidr.mask(prefix)) >>> 0, prefix);
  }

  get size(): number {
    return 2 ** (32 - this.prefix);
  }

  get last(): number {
    return this.network + this.size - 1;
  }

  /** The n-th address of the block (`host(1)` is the usual gateway). */
  host(n: number): string {
    return Ipv4Cidr.formatAddress(this.network + n);
  }

  contains(address: number): boolean {
    return address >= this.network && address <= this.last;
  }

  overlaps(other: Ipv4Cidr): boolean {
    return this.network <= other.last && other.network <= this.last;
  }

  /** The blocks of length `prefix` inside this one, in order (none when `prefix` is shorter than this block's). */
  *subnets(prefix: number): Generator<Ipv4Cidr> {
    if (prefix < this.prefix || prefix > 32) return;
    const step = 2 ** (32 - prefix);
    for (let n = this.network; n <= this.last; n += step) yield new Ipv4Cidr(n, prefix);
  }

  toString(): string {
    return `${Ipv4Cidr.formatAddress(this.network)}/${this.prefix}`;
  }
}
