// The published CRI v1 API as compiled into crictl: Go protobuf registers every .proto file's FileDescriptorProto
// gzipped in the binary, so the descriptor of api.proto (package runtime.v1) is one gzip member among many.

import fs from 'node:fs';
import zlib from 'node:zlib';
import * as descriptor from 'protobufjs/ext/descriptor';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);
/** A gzipped descriptor is a few KiB: this much input after a header is plenty to inflate one. */
const MAX_MEMBER = 1 << 20;

/** The decoded FileDescriptorProto of package `pkg` found in `binary`; throws when there is none. */
export function publishedCriDescriptor(binary: string, pkg = 'runtime.v1'): descriptor.IFileDescriptorProto {
  const bytes = fs.readFileSync(binary);
  for (let at = bytes.indexOf(GZIP_MAGIC); at >= 0; at = bytes.indexOf(GZIP_MAGIC, at + 1)) {
    let inflated: Buffer;
    let file: descriptor.IFileDescriptorProto;
    try {
      inflated = zlib.gunzipSync(bytes.subarray(at, at + MAX_MEMBER), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      file = descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(inflated));
    } catch {
      continue; // the magic bytes by chance, or a gzip member that is not a descriptor
    }
    if (file.package === pkg && (file.service?.length ?? 0) > 0) return file;
  }
  throw new Error(`${binary} embeds no descriptor of package ${pkg}`);
}
