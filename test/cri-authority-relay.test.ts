// The CRI socket's relay: Go gRPC clients of crictl's era send the socket's path as `:authority`, which Node's
// HTTP/2 server refuses (RST_STREAM PROTOCOL_ERROR). Through the relay the same bytes reach the server with a valid
// authority, on the same connection, also when the client's HPACK table refers back to earlier headers.

import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { relayWithAuthorityFix } from '../plugins/api-cri/authority-proxy';
import { tmpDir } from './helpers/tmp';

// biome-ignore lint/suspicious/noExplicitAny: hpack.js ships no types
const hpack: any = require('hpack.js');

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** A client as grpc-go writes one: the preface, SETTINGS, then GETs whose headers share one HPACK table. */
async function requests(socketPath: string, authority: string, paths: string[]): Promise<{ statuses: string[]; resets: number[] }> {
  const encoder = hpack.compressor.create({ table: { size: 4096 } });
  const decoder = hpack.decompressor.create({ table: { size: 4096 } });
  const sock = net.connect(socketPath);
  await new Promise((r) => sock.once('connect', r));
  sock.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
  sock.write(frame(4, 0, 0, Buffer.alloc(0)));
  paths.forEach((p, i) => {
    encoder.write([
      { name: ':method', value: 'GET' },
      { name: ':scheme', value: 'http' },
      { name: ':path', value: p },
      { name: ':authority', value: authority },
      { name: 'user-agent', value: 'grpc-go/1.51.0' },
    ]);
    const block: Buffer = encoder.read();
    sock.write(frame(1, 0x5, 1 + 2 * i, block)); // END_STREAM | END_HEADERS
  });
  const statuses: string[] = [];
  const resets: number[] = [];
  let buf = Buffer.alloc(0);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
        const len = buf.readUIntBE(0, 3);
        const [type, stream] = [buf[3], buf.readUInt32BE(5) & 0x7fffffff];
        const payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type === 1) {
          decoder.write(payload);
          decoder.execute();
          for (let h = decoder.read(); h; h = decoder.read()) if (h.name === ':status') statuses.push(h.value);
        } else if (type === 3) resets.push(stream);
        if (statuses.length + resets.length === paths.length) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
  });
  sock.destroy();
  return { statuses, resets };
}

async function server(socketPath: string): Promise<{ seen: string[]; close(): void }> {
  const seen: string[] = [];
  const s = http2.createServer();
  s.on('stream', (st, h) => {
    seen.push(`${h[':path']} ${h[':authority']}`);
    st.respond({ ':status': 200 });
    st.end();
  });
  await new Promise<void>((r) => s.listen(socketPath, r));
  return { seen, close: () => s.close() };
}

test('Node refuses a socket path as :authority; through the relay every request is answered', async () => {
  const dir = tmpDir();
  const inner = path.join(dir, 'inner.sock');
  const outer = path.join(dir, 'outer.sock');
  const srv = await server(inner);
  const relay = await relayWithAuthorityFix(outer, inner);
  try {
    const direct = await requests(inner, outer, ['/a']);
    assert.equal(direct, { statuses: [], resets: [1] }, 'without the relay: RST_STREAM');
    const relayed = await requests(outer, outer, ['/a', '/b', '/c']);
    assert.equal(relayed, { statuses: ['200', '200', '200'], resets: [] });
    assert.equal(srv.seen, ['/a localhost', '/b localhost', '/c localhost']);
    // a valid authority is left as it was
    await requests(outer, 'example:80', ['/d']);
    assert.is(srv.seen.at(-1), '/d example:80');
  } finally {
    relay.close();
    srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
