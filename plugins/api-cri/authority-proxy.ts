// Go's gRPC clients of the kubelet's era (crictl and critest 1.26 among them) send a unix socket's path as the
// HTTP/2 `:authority` ("/run/kukeon/cri.sock"). Node's HTTP/2 server (nghttp2) refuses such a header, a '/' is not
// allowed there, and resets every stream with PROTOCOL_ERROR, with no option to relax it. So the CRI socket is
// served by this relay: it passes every frame through to grpc-js on a private socket, except header blocks, which
// it decodes (HPACK, with the client's dynamic table), gives `:authority: localhost` when the value is not a valid
// authority, and encodes again without indexing (so the server's table stays empty and nothing else changes).

import net from 'node:net';

// biome-ignore lint/suspicious/noExplicitAny: hpack.js ships no types
const hpack: any = require('hpack.js');

const PREFACE_LENGTH = 24;
const HEADERS = 0x1;
const CONTINUATION = 0x9;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
const MAX_FRAME = 16_384;
const VALID_AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:%[\]@]*$/;

function integer(value: number, prefixBits: number, firstByte: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const bytes = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name, 'latin1');
  const v = Buffer.from(value, 'latin1');
  // 0x00: literal header field without indexing, new name; strings not Huffman-coded
  return Buffer.concat([Buffer.from([0]), integer(n.length, 7, 0), n, integer(v.length, 7, 0), v]);
}

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** Rewrites the client's side of one connection; returns what to send to the server for each chunk read. */
export class AuthorityRewriter {
  private buf: Buffer = Buffer.alloc(0);
  private preface = false;
  private readonly decoder = hpack.decompressor.create({ table: { size: 4096 } });
  /** A header block being collected: its first frame's flags, stream, priority bytes and fragments. */
  private block: { flags: number; stream: number; priority?: Buffer; parts: Buffer[] } | undefined;

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    if (!this.preface) {
      if (this.buf.length < PREFACE_LENGTH) return out;
      out.push(this.buf.subarray(0, PREFACE_LENGTH));
      this.buf = this.buf.subarray(PREFACE_LENGTH);
      this.preface = true;
    }
    while (this.buf.length >= 9) {
      const length = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + length) break;
      const type = this.buf[3];
      const flags = this.buf[4];
      const stream = this.buf.readUInt32BE(5) & 0x7fffffff;
      const whole = this.buf.subarray(0, 9 + length);
      const payload = whole.subarray(9);
      this.buf = this.buf.subarray(9 + length);
      if (type === HEADERS) {
        let p = payload;
        if (flags & PADDED) p = p.subarray(1, p.length - payload[0]);
        let priority: Buffer | undefined;
        if (flags & PRIORITY) {
          priority = Buffer.from(p.subarray(0, 5));
          p = p.subarray(5);
        }
        this.block = { flags, stream, priority, parts: [Buffer.from(p)] };
      } else if (type === CONTINUATION && this.block) {
        this.block.parts.push(Buffer.from(payload));
      } else {
        out.push(Buffer.from(whole));
        continue;
      }
      if (flags & END_HEADERS) out.push(...this.flush());
    }
    return out;
  }

  private flush(): Buffer[] {
    const block = this.block!;
    this.block = undefined;
    this.decoder.write(Buffer.concat(block.parts));
    this.decoder.execute();
    const fields: Buffer[] = [];
    for (let h = this.decoder.read(); h; h = this.decoder.read()) {
      const value = h.name === ':authority' && !VALID_AUTHORITY.test(h.value) ? 'localhost' : h.value;
      fields.push(literal(h.name, value));
    }
    let encoded = Buffer.concat(fields);
    const out: Buffer[] = [];
    const keep = block.flags & 0x1; // END_STREAM
    const head = block.priority ? Buffer.concat([block.priority, encoded.subarray(0, MAX_FRAME - 5)]) : encoded.subarray(0, MAX_FRAME);
    encoded = encoded.subarray(head.length - (block.priority ? 5 : 0));
    const last = encoded.length === 0;
    out.push(frame(HEADERS, keep | (block.priority ? PRIORITY : 0) | (last ? END_HEADERS : 0), block.stream, head));
    while (encoded.length) {
      const part = encoded.subarray(0, MAX_FRAME);
      encoded = encoded.subarray(part.length);
      out.push(frame(CONTINUATION, encoded.length ? 0 : END_HEADERS, block.stream, part));
    }
    return out;
  }
}

/** Serves `publicPath` by relaying each connection to `privatePath` through an AuthorityRewriter. */
export function relayWithAuthorityFix(publicPath: string, privatePath: string): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect(privatePath);
    const rewriter = new AuthorityRewriter();
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = rewriter.push(chunk);
      } catch {
        end(); // a header block that does not decode: the connection is unusable anyway
        return;
      }
      for (const f of frames) upstream.write(f);
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(publicPath, () => resolve(server));
  });
}
