// The ProtoShape of package `pkg` as protobufjs reads a .proto file (with keepCase, so names are the file's own).

import * as protobuf from 'protobufjs';
import type { FieldShape, MethodShape, ProtoShape } from './proto-shape';

/** A message's or enum's full name without the leading dot. */
const nameOf = (t: protobuf.ReflectionObject) => t.fullName.replace(/^\./, '');
/** A field's or map value's type: the referenced message or enum by full name, else the scalar. */
const typeOf = (f: protobuf.Field) => (f.resolvedType ? nameOf(f.resolvedType) : f.type);

export function protoShapeOfRoot(root: protobuf.Root, pkg: string): ProtoShape {
  root.resolveAll();
  const shape: ProtoShape = { messages: {}, enums: {}, services: {} };
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const o of ns.nestedArray) {
      const full = nameOf(o);
      if (o instanceof protobuf.Type) {
        const fields: Record<string, FieldShape> = {};
        for (const f of o.fieldsArray) {
          const map = f instanceof protobuf.MapField ? `map<${f.keyType}, ${typeOf(f)}>` : undefined;
          fields[f.name] = {
            number: f.id,
            type: map ?? typeOf(f),
            repeated: !map && f.repeated,
            ...(f.partOf ? { oneof: f.partOf.name } : {}),
          };
        }
        shape.messages[full] = fields;
      } else if (o instanceof protobuf.Enum) shape.enums[full] = { ...o.values };
      else if (o instanceof protobuf.Service) {
        const methods: Record<string, MethodShape> = {};
        for (const m of o.methodsArray)
          methods[m.name] = {
            request: m.resolvedRequestType ? nameOf(m.resolvedRequestType) : m.requestType,
            response: m.resolvedResponseType ? nameOf(m.resolvedResponseType) : m.responseType,
            clientStreaming: !!m.requestStream,
            serverStreaming: !!m.responseStream,
          };
        shape.services[full] = methods;
      }
      if (o instanceof protobuf.Namespace) visit(o);
    }
  };
  const top = root.lookup(pkg);
  if (!(top instanceof protobuf.Namespace)) throw new Error(`no package ${pkg}`);
  visit(top);
  return shape;
}
