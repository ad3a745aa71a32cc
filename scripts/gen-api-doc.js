#!/usr/bin/env node
// Writes docs/api.md, the reference of kukeon.v1, from its contract: the rpcs and messages of
// plugins/api-socket/proto/kukeon/v1/kukeon.proto (loaded with @grpc/proto-loader; the comment above each rpc is
// read from the file itself and names the request and response types), and those types' fields from the SDK
// (sdk/controller-api.ts and what it refers to), read with the TypeScript compiler API.
//
//   node scripts/gen-api-doc.js [OUT]     (default docs/api.md; `npm run docs:api`)
//
// The page is passed through Biome, so `npm run format` leaves it as it is. test/api-proto.test.ts runs this
// into a temporary file and fails when docs/api.md differs.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const protoLoader = require('@grpc/proto-loader');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '..');
const PROTO_DIR = path.join(ROOT, 'plugins', 'api-socket', 'proto');
const PROTO_FILE = 'kukeon/v1/kukeon.proto';
const PROTO_PATH = path.join(PROTO_DIR, PROTO_FILE);
const SDK_INDEX = path.join(ROOT, 'sdk', 'index.ts');
const SDK_DIR = path.join(ROOT, 'sdk');
const SERVICE = 'kukeon.v1.Kukeon';
/** Words of rpc comments that name the proto's own messages or the encoding, not SDK types. */
const NOT_TYPES = new Set(['Chunk', 'Frame', 'Json', 'JSON']);
/** Types described elsewhere (by JSON Schema): listed, not expanded. */
const LEAVES = new Map([['AnyDoc', 'its shape per kind is printed by `kuke schema KIND` (JSON Schema)']]);

/** The proto as text: header comment, and the comment above each rpc. */
function readProtoComments() {
  const lines = fs.readFileSync(PROTO_PATH, 'utf8').split('\n');
  const header = [];
  for (const line of lines) {
    if (!line.startsWith('//')) break;
    header.push(line.replace(/^\/\/ ?/, ''));
  }
  const rpcComments = new Map();
  let pending = [];
  for (const raw of lines) {
    const line = raw.trim();
    const m = /^rpc\s+(\w+)\s*\(/.exec(line);
    if (line.startsWith('//')) pending.push(line.replace(/^\/\/ ?/, ''));
    else if (m) {
      rpcComments.set(m[1], pending.join(' '));
      pending = [];
    } else pending = [];
  }
  return { header: header.join('\n').trim(), rpcComments };
}

/** The service's rpcs and the messages, as @grpc/proto-loader sees them. */
function loadService() {
  const pkg = protoLoader.loadSync(PROTO_FILE, { includeDirs: [PROTO_DIR], keepCase: true });
  const service = pkg[SERVICE];
  if (!service) throw new Error(`${PROTO_PATH}: no service ${SERVICE}`);
  const rpcs = Object.keys(service).map((name) => {
    const m = service[name];
    return {
      name,
      path: m.path,
      requestStream: m.requestStream,
      responseStream: m.responseStream,
      requestType: m.requestType.type.name,
      responseType: m.responseType.type.name,
    };
  });
  const messages = {};
  for (const [name, def] of Object.entries(pkg)) {
    if (def.format !== 'Protocol Buffer 3 DescriptorProto') continue;
    messages[name.replace(/^kukeon\.v1\./, '')] = def.type.field.map((f) => ({
      name: f.name,
      number: f.number,
      type: f.type.replace(/^TYPE_/, '').toLowerCase(),
    }));
  }
  return { rpcs, messages };
}

/** How an rpc travels, from the proto's streaming flags and messages (and, for a Json stream, its comment). */
function shapeOf(rpc, comment) {
  if (rpc.requestStream && !rpc.responseStream && rpc.requestType === 'Chunk') return 'bytesIn';
  if (rpc.requestStream && rpc.responseStream && rpc.requestType === 'Frame' && rpc.responseType === 'Frame') return 'session';
  if (rpc.requestStream) throw new Error(`rpc ${rpc.name}: a client stream that is neither of Chunk nor a session of Frame`);
  if (!rpc.responseStream) return 'unary';
  if (rpc.responseType === 'Chunk') return 'bytesOut';
  return /\bprogress:/.test(comment) ? 'mutation' : 'items';
}

const SHAPES = {
  unary: 'unary: one `Json` request, one `Json` response.',
  mutation:
    'mutation: one `Json` request; a server stream of `Json` frames, zero or more `{"progress": ProgressEvent}` (heartbeats included; the SDK types progress as [ProgressEvent](#progressevent), `CallOptions.onProgress`), then one `{"result": …}`.',
  items: 'items: one `Json` request; a server stream of `Json` messages, one value each.',
  bytesOut: 'bytes out: one `Json` request; a server stream of `Chunk` messages (raw bytes).',
  bytesIn: 'bytes in: a client stream of `Chunk` messages (the first carries the JSON request); one `Json` response.',
  session:
    'session: a bidirectional stream of `Frame`s. Client to server: the JSON request, then stdin bytes (`data`, stream 0), `{"eof": true}` and `{"resize": {"cols", "rows"}}` ([SessionInput](#sessioninput)); ending its side only means no more input. Server to client: output bytes (`data`, stream 1 stdout or 2 stderr: [SessionOutput](#sessionoutput)), then one `{"result": …}`, then OK. Cancelling the stream ends the session in the daemon (an exec\'d process is hung up, then killed; an attach detaches).',
};

/** The SDK's types, read with the compiler API. */
function sdkReader() {
  const program = ts.createProgram([SDK_INDEX], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    strict: true,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const index = program.getSourceFile(SDK_INDEX);
  const exported = new Map();
  for (const s of checker.getExportsOfModule(checker.getSymbolAtLocation(index))) {
    exported.set(s.name, s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  }
  const clean = (text) => text.replace(/\s+/g, ' ').trim();
  const docOf = (sym) => clean(ts.displayPartsToString(sym.getDocumentationComment(checker)));
  const declOf = (sym) => (sym.declarations || []).find((d) => ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d));
  const fileOf = (decl) => path.relative(ROOT, decl.getSourceFile().fileName).split(path.sep).join('/');

  /** The SDK types (interfaces and aliases) a node refers to by name. */
  function referencesIn(node, into) {
    const visit = (n) => {
      if (ts.isTypeReferenceNode(n) || ts.isExpressionWithTypeArguments(n)) {
        const nameNode = ts.isTypeReferenceNode(n) ? n.typeName : n.expression;
        let sym = checker.getSymbolAtLocation(nameNode);
        if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
        const decl = sym && declOf(sym);
        if (decl?.getSourceFile().fileName.startsWith(SDK_DIR)) into.add(sym.name);
      }
      ts.forEachChild(n, visit);
    };
    visit(node);
  }

  /** One type: its doc, file, and either fields (interfaces, inherited ones included) or its definition. */
  function describe(name) {
    const sym = exported.get(name);
    const decl = sym && declOf(sym);
    if (!decl) return undefined;
    const refs = new Set();
    const out = { name, doc: docOf(sym), file: fileOf(decl), refs };
    if (LEAVES.has(name)) {
      out.definition = clean(decl.type.getText());
      out.note = LEAVES.get(name);
      return out;
    }
    if (ts.isTypeAliasDeclaration(decl)) {
      // As written (unions keep their lines), except `(typeof KINDS)[number]`, which says nothing on the wire: its values.
      out.definition = /\btypeof\b/.test(decl.type.getText())
        ? checker.typeToString(checker.getDeclaredTypeOfSymbol(sym))
        : decl.type
            .getText()
            .replace(/^\|\s*/, '')
            .replace(/\n\s*\|/g, '\n  |');
      referencesIn(decl.type, refs);
      return out;
    }
    out.fields = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym)).map((p) => {
      const d = p.valueDeclaration;
      if (d.type) referencesIn(d.type, refs);
      const owner = d.parent && ts.isInterfaceDeclaration(d.parent) ? d.parent.name.text : name;
      return {
        name: p.name,
        optional: Boolean(d.questionToken),
        type: d.type ? clean(d.type.getText()) : checker.typeToString(checker.getTypeOfSymbol(p)),
        doc: docOf(p),
        from: owner === name ? undefined : owner,
      };
    });
    refs.delete(name);
    return out;
  }

  /** ControllerApi's method `verb`: its signature and doc. */
  function method(verb) {
    const api = exported.get('ControllerApi');
    const member = api && checker.getDeclaredTypeOfSymbol(api).getProperty(verb);
    if (!member) return undefined;
    const d = member.valueDeclaration;
    return { signature: clean(d.getText()).replace(/;$/, ''), doc: docOf(member) };
  }

  return { has: (name) => exported.has(name), describe, method };
}

const code = (s) => `\`${s}\``;
/** A table cell: pipes escaped, no line breaks. */
const cell = (s) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const anchor = (heading) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

function render() {
  const { header, rpcComments } = readProtoComments();
  const { rpcs, messages } = loadService();
  const sdk = sdkReader();
  const out = [];
  const typeOrder = [];
  const seen = new Set();
  const want = (name) => {
    if (!seen.has(name)) {
      seen.add(name);
      typeOrder.push(name);
    }
  };
  const link = (name) => `[${name}](#${anchor(name)})`;
  /** The comment with each SDK type it names linked (and queued for the Types section). */
  const linked = (rpc, comment) =>
    comment.replace(/\b[A-Z][A-Za-z0-9]*\b/g, (word) => {
      if (NOT_TYPES.has(word)) return word;
      if (!sdk.has(word)) throw new Error(`rpc ${rpc}: its comment names ${word}, which the SDK does not export`);
      want(word);
      return link(word);
    });

  out.push('# kukeon.v1: the API of kukeond');
  out.push('');
  out.push(
    '<!-- Generated by scripts/gen-api-doc.js from plugins/api-socket/proto/kukeon/v1/kukeon.proto and the SDK (sdk/controller-api.ts). Do not edit: run `npm run docs:api`. -->',
  );
  out.push('');
  out.push(
    "`kukeon.v1` is the API `kukeond` serves to `kuke` (and to any other client): kukeon's `ControllerApi` (sdk/controller-api.ts), the same interface the CLI calls in-process with `--no-daemon`, served as the gRPC service `kukeon.v1.Kukeon` by the `api-socket` plugin ([plugins/api-socket](../plugins/api-socket/README.md)). Its contract is [kukeon.proto](../plugins/api-socket/proto/kukeon/v1/kukeon.proto); this page is generated from it and from the SDK's types, and `test/api-proto.test.ts` checks that the server, the client and this page agree with it.",
  );
  out.push('');
  out.push('The proto says of itself:');
  out.push('');
  for (const line of header.split('\n')) out.push(line ? `> ${line}` : '>');
  out.push('');

  out.push('## Transport');
  out.push('');
  out.push(
    "- **Socket.** gRPC (HTTP/2, no TLS) on a unix socket, by default `/run/kukeon/kukeond.sock` (the `api-socket` plugin's `socket` key: `--socket`, `KUKEON_SOCKET`); the pid file `kukeond.pid` is beside it. gRPC clients address it as `unix:///run/kukeon/kukeond.sock`.",
  );
  out.push(
    "- **Permissions.** The socket is `0660 root:kukeon` (the plugin's `group` key, default `kukeon`): root and the members of that group may call the API. Without that group on the host it is `0600` (root only). A missing socket directory is created `2750 root:<group>` (`0700` without the group) before the socket is bound.",
  );
  out.push(
    "- **Encoding.** Every message is a `Json` (or, for raw bytes, a `Chunk`) with exactly one field, number 1, of type `bytes`; sessions (`Exec`, `Attach`) carry `Frame`s, which add the raw bytes of stdin, stdout and stderr (field 2) and their stream's number (field 3) to that field 1 of JSON. A `Json` carries the UTF-8 JSON of the TypeScript type its rpc's comment names: the SDK's types are the one definition of the data, and the documents they carry are already described by JSON Schemas (`kuke schema KIND`), so the proto does not repeat them field by field (as Kubernetes carries a `RawExtension`). A client needs no generated code: any protobuf library, or the hand codec of plugins/api-socket/wire.ts, reads field 1. An empty message is an absent value; a call without arguments sends `{}`; a verb that returns nothing answers `null`.",
  );
  out.push(
    '- **Errors.** A failed call ends with a gRPC status (`NOT_FOUND`, `ALREADY_EXISTS`, `ABORTED` for `KUKEON_E_BUSY`, `CANCELLED`, `FAILED_PRECONDITION`, `INTERNAL`, else `INVALID_ARGUMENT`) whose trailing metadata `kukeon-error-bin` holds the JSON `{ "code": "KUKEON_E_…", "message": "…", "details": { … } }`. Clients read the code from the metadata, not from the status, so `kuke` prints and exits as it does in-process.',
  );
  out.push(
    "- **Cancellation.** Cancelling a call (the client disconnects, Ctrl-C, a deadline) aborts the operation in the daemon through its AbortSignal; the operation's usual undo runs. When kukeond stops it stops accepting calls, lets the running ones finish for 5 s, then cancels the rest.",
  );
  out.push(
    '- **Deadlines and heartbeats.** `kuke` gives a unary call a 60 s deadline (plus the stop timeout for `Stop` and `Restart`), and gives up on a mutation stream that sends nothing for 60 s; the server sends a heartbeat frame `{"progress": {"kind": "heartbeat"}}` every 15 s while a mutation runs, so a long operation (an apply that pulls images) never trips it. Clients skip heartbeats. Item and byte streams (`PullImage`, `Logs`, `Wait`, `Watch`) and sessions (`Exec`, `Attach`) have no idle limit: they last until they end or are cancelled. During a session `kuke` sends an HTTP/2 ping every 20 s and ends the call with `KUKEON_E_DAEMON` when one goes unanswered for 20 s (a daemon that dies closes the socket, which ends it at once).',
  );
  out.push('- **Sizes.** Messages up to 64 MiB each way; an image archive is streamed in `Chunk`s.');
  out.push('');

  out.push('## Messages');
  out.push('');
  for (const [name, fields] of Object.entries(messages)) {
    out.push(`- ${code(name)}: ${fields.map((f) => `${code(`${f.type} ${f.name} = ${f.number}`)}`).join(', ')}`);
  }
  out.push('');

  out.push('## Streaming shapes');
  out.push('');
  for (const text of Object.values(SHAPES)) out.push(`- ${text}`);
  out.push('');

  out.push('## Methods');
  out.push('');
  out.push('| rpc | shape | request → response |');
  out.push('| --- | --- | --- |');
  const sections = [];
  for (const rpc of rpcs) {
    const comment = rpcComments.get(rpc.name);
    if (comment === undefined) throw new Error(`rpc ${rpc.name}: no comment in ${PROTO_FILE}`);
    if (!comment) throw new Error(`rpc ${rpc.name}: its comment is empty; it must name the request and response types`);
    const shape = shapeOf(rpc, comment);
    const verb = rpc.name[0].toLowerCase() + rpc.name.slice(1);
    const method = sdk.method(verb);
    if (!method) throw new Error(`rpc ${rpc.name}: ControllerApi has no method ${verb}`);
    const text = linked(rpc.name, comment);
    if (shape === 'mutation') want('ProgressEvent');
    out.push(`| [${rpc.name}](#${anchor(rpc.name)}) | ${shape} | ${cell(text)} |`);
    const proto = `rpc ${rpc.name}(${rpc.requestStream ? 'stream ' : ''}${rpc.requestType}) returns (${rpc.responseStream ? 'stream ' : ''}${rpc.responseType})`;
    const s = [`### ${rpc.name}`, '', `${code(proto)}, path ${code(rpc.path)}`, ''];
    s.push(`- Types: ${text}`);
    s.push(`- Shape: ${SHAPES[shape]}`);
    s.push(`- SDK: ${code(`ControllerApi.${method.signature}`)}${method.doc ? `. ${method.doc}` : ''}`);
    s.push('');
    sections.push(...s);
  }
  out.push('');
  out.push(...sections);

  out.push('## Types');
  out.push('');
  out.push(
    'The TypeScript types the rpcs carry as JSON, with the types they refer to, as declared in the SDK (`?` marks an optional field: leave it out of the JSON).',
  );
  out.push('');
  for (let i = 0; i < typeOrder.length; i++) {
    const t = sdk.describe(typeOrder[i]);
    if (!t) throw new Error(`type ${typeOrder[i]}: not an interface or type alias of the SDK`);
    out.push(`### ${t.name}`);
    out.push('');
    out.push(`${t.doc ? `${t.doc} ` : ''}(${code(t.file)})`);
    out.push('');
    if (t.fields) {
      out.push('| field | type | description |');
      out.push('| --- | --- | --- |');
      for (const f of t.fields) {
        const from = f.from ? `${f.doc ? ' ' : ''}(from ${f.from})` : '';
        out.push(`| ${code(f.name + (f.optional ? '?' : ''))} | ${code(cell(f.type))} | ${cell(f.doc + from)} |`);
      }
    } else {
      out.push('```ts');
      out.push(t.definition.includes('\n') ? `type ${t.name} =\n  | ${t.definition};` : `type ${t.name} = ${t.definition};`);
      out.push('```');
      if (t.note) {
        out.push('');
        out.push(`Not expanded here: ${t.note}.`);
      }
    }
    const refs = [...t.refs].sort();
    if (refs.length) out.push('', `Refers to ${refs.map(link).join(', ')}.`);
    out.push('');
    for (const r of refs) want(r);
  }
  const headings = out.filter((l) => /^#{1,4} /.test(l)).map((l) => anchor(l.replace(/^#+ /, '')));
  const dup = headings.find((h, i) => headings.indexOf(h) !== i);
  if (dup) throw new Error(`two headings share the anchor #${dup}`);
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

/** The page as `npm run format` leaves it (Biome aligns the tables and formats the code blocks). */
function formatted(markdown) {
  const biome = require.resolve('@biomejs/biome/bin/biome');
  return execFileSync(process.execPath, [biome, 'format', '--stdin-file-path=docs/api.md'], {
    cwd: ROOT,
    input: markdown,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
}

module.exports = { render, formatted };

if (require.main === module) {
  const target = path.resolve(process.argv[2] || path.join(ROOT, 'docs', 'api.md'));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, formatted(render()));
  console.log(`wrote ${path.relative(process.cwd(), target) || target}`);
}
