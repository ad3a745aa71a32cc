// The ProtoShape of a FileDescriptorProto as protoc and Go protobuf write it: map fields are repeated fields of a
// nested `XxxEntry` message marked map_entry, which the shape shows as `map<key, value>` instead.

import * as descriptor from 'protobufjs/ext/descriptor';
import type { FieldShape, MethodShape, ProtoShape } from './proto-shape';

// descriptor.proto's own enums (the typings of ext/descriptor promise Enums where the module has plain objects)
const TYPE = descriptor.FieldDescriptorProto.lookupEnum('Type');
const LABEL = descriptor.FieldDescriptorProto.lookupEnum('Label');

/** The type of a field: a scalar's name (TYPE_INT64 -> int64), else the referenced full name without the dot. */
function typeOf(f: descriptor.IFieldDescriptorProto): string {
  if (f.type === TYPE.values.TYPE_MESSAGE || f.type === TYPE.values.TYPE_ENUM) return (f.typeName ?? '').replace(/^\./, '');
  const name = TYPE.valuesById[f.type ?? 0];
  if (!name) throw new Error(`field ${f.name}: unknown type ${f.type}`);
  return name.replace(/^TYPE_/, '').toLowerCase();
}

export function protoShapeOfDescriptor(file: descriptor.IFileDescriptorProto): ProtoShape {
  const shape: ProtoShape = { messages: {}, enums: {}, services: {} };
  const addEnum = (prefix: string, e: descriptor.IEnumDescriptorProto) => {
    shape.enums[`${prefix}${e.name}`] = Object.fromEntries((e.value ?? []).map((v) => [v.name ?? '', v.number ?? 0]));
  };
  /** Full name of a map entry message -> its `map<key, value>`. */
  const maps = new Map<string, string>();
  const addMessage = (prefix: string, m: descriptor.IDescriptorProto) => {
    const full = `${prefix}${m.name}`;
    for (const n of m.nestedType ?? []) {
      if (n.options?.mapEntry) {
        const [key, value] = n.field ?? [];
        maps.set(`${full}.${n.name}`, `map<${typeOf(key)}, ${typeOf(value)}>`);
      } else addMessage(`${full}.`, n);
    }
    for (const e of m.enumType ?? []) addEnum(`${full}.`, e);
    const fields: Record<string, FieldShape> = {};
    for (const f of m.field ?? []) {
      const map = maps.get(typeOf(f));
      fields[f.name ?? ''] = {
        number: f.number ?? 0,
        type: map ?? typeOf(f),
        repeated: !map && f.label === LABEL.values.LABEL_REPEATED,
        ...(f.oneofIndex != null ? { oneof: m.oneofDecl?.[f.oneofIndex]?.name ?? '' } : {}),
      };
    }
    shape.messages[full] = fields;
  };
  const pkg = file.package ? `${file.package}.` : '';
  for (const m of file.messageType ?? []) addMessage(pkg, m);
  for (const e of file.enumType ?? []) addEnum(pkg, e);
  for (const s of file.service ?? []) {
    const methods: Record<string, MethodShape> = {};
    for (const m of s.method ?? [])
      methods[m.name ?? ''] = {
        request: (m.inputType ?? '').replace(/^\./, ''),
        response: (m.outputType ?? '').replace(/^\./, ''),
        clientStreaming: !!m.clientStreaming,
        serverStreaming: !!m.serverStreaming,
      };
    shape.services[`${pkg}${s.name}`] = methods;
  }
  return shape;
}
