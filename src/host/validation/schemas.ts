// One JSON Schema per kind: what ajv checks on apply, and what `kuke schema KIND` prints for editors.

import { API_VERSION, RESTART_POLICIES } from '../../../sdk';
import type { Kind } from '../../../sdk';
import { NAME_PATTERN } from './names';

type Schema = Record<string, unknown>;

const name = { type: 'string', pattern: NAME_PATTERN, maxLength: 63 };
/** A name field (lowercase letters, digits and -, alphanumeric at both ends, at most 63 characters) saying what it names. */
const named = (description: string): Schema => ({ ...name, description });
const size = (description: string): Schema => ({
  description: `${description}; bytes as an integer, or a string with a Ki, Mi, Gi or Ti suffix ("64Mi")`,
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^[0-9]+(Ki|Mi|Gi|Ti)?$' },
  ],
});
const weight = (file: string): Schema => ({
  type: 'integer',
  minimum: 1,
  maximum: 10000,
  description: `cgroup v2 ${file}: a relative share against its siblings, 1 to 10000 (the kernel's default is 100)`,
});

const resources: Schema = {
  type: 'object',
  additionalProperties: false,
  description:
    "limits, one shape at every level (realm, space, stack, cell, container) with cgroup v2 names: written to that level's cgroup " +
    "files (cgroupv2 plugin), for a container into its OCI spec's linux.resources; a limit the host's cgroup2 cannot enforce is refused",
  properties: {
    cpu: {
      type: 'object',
      additionalProperties: false,
      description: 'CPU limits (the cpu controller)',
      properties: {
        max: {
          type: 'string',
          pattern: '^(max|[0-9]+)( [0-9]+)?$',
          description:
            'cgroup v2 cpu.max: "<quota> <period>" in microseconds (quota at least 1000, period 1000 to 1000000, default 100000), ' +
            'or "max" for no limit',
        },
        weight: weight('cpu.weight'),
      },
    },
    memory: {
      type: 'object',
      additionalProperties: false,
      description: 'memory limits (the memory controller)',
      properties: {
        max: size('cgroup v2 memory.max: the hard limit, beyond which the OOM killer runs'),
        high: size('cgroup v2 memory.high: the throttling threshold, above which the kernel reclaims hard (refused on a hybrid host)'),
      },
    },
    pids: {
      type: 'object',
      additionalProperties: false,
      description: 'process limits (the pids controller)',
      properties: { max: { type: 'integer', minimum: 1, description: 'cgroup v2 pids.max: the most processes and threads at once' } },
    },
    io: {
      type: 'object',
      additionalProperties: false,
      description: 'block I/O limits (the io controller)',
      properties: { weight: { ...weight('io.weight'), description: `${weight('io.weight').description} (refused on a hybrid host)` } },
    },
  },
};

const labels: Schema = {
  type: 'object',
  description:
    "key/value pairs to select resources by (kuke get -l key=value), with Kubernetes' label rules: key [prefix/]name (name at most " +
    '63 characters, prefix a DNS subdomain), value at most 63',
  propertyNames: {
    maxLength: 317,
    pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$',
  },
  additionalProperties: {
    type: 'string',
    maxLength: 63,
    pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$',
    description: 'a label value: empty, or at most 63 letters, digits, -, _ and ., alphanumeric at both ends',
  },
};

const metadata: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  description: "the resource's identity: its name (its place in the hierarchy is in spec) and labels",
  properties: {
    name: named("the resource's name: lowercase letters, digits and -, alphanumeric at both ends, at most 63 characters"),
    labels,
  },
};

const port: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['containerPort'],
  properties: {
    containerPort: { type: 'integer', minimum: 1, maximum: 65535, description: 'the port the container listens on' },
    hostPort: {
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      description: 'the host port published to it (CNI portmap); without it the port is not published',
    },
    protocol: { enum: ['tcp', 'udp'], description: 'tcp or udp; default tcp' },
    hostIP: {
      type: 'string',
      pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$',
      description: 'publish on this host IPv4 address only; default every address of the host',
    },
  },
};

const secretRef: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'realm'],
  description: 'a Secret of that exact scope (realm, then space, stack and cell without gaps); a missing one fails the start naming it',
  properties: {
    name: named("the Secret's name"),
    realm: named('its realm'),
    space: named('its space, for a Secret scoped to a space or below'),
    stack: named('its stack (needs space)'),
    cell: named('its cell (needs stack)'),
  },
};

const containerSecret: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  description: 'exactly one of fromFile, fromEnv, secretRef; with mountPath a read-only file (0400), else the variable `name`',
  properties: {
    name: {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      description: "with mountPath the file's name (letters, digits, ., _ and -), else the environment variable's name",
    },
    fromFile: { type: 'string', pattern: '^/', description: 'a host file (absolute, a regular file of at most 1 MiB), read at each start' },
    fromEnv: {
      type: 'string',
      description: 'a variable of the environment of the kukeon process that starts the container (kukeond, or kuke in-process)',
    },
    secretRef,
    mountPath: {
      type: 'string',
      pattern: '^/',
      description:
        'where the value appears as a read-only file (0400, owned by the process user), bind-mounted from a tmpfs; absolute, ' +
        'not / and not under /proc, /sys or /dev; without it the value is an environment variable',
    },
  },
};

const volumeMount: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['target'],
  properties: {
    kind: { enum: ['', 'bind', 'tmpfs', 'volume'], description: 'bind (the default when empty), tmpfs or volume' },
    source: {
      type: 'string',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the manifest's own ${CELL_NAME}, expanded by kukeon, not by JavaScript
      description: "bind: an absolute host path (${CELL_NAME} expands to the cell's name); volume: the volume's name (short for volumeRef)",
    },
    target: {
      type: 'string',
      description: 'absolute path in the container; not /, /proc, /sys or /dev, nor under /proc or /sys; one mount per target',
    },
    readOnly: { type: 'boolean', description: 'mounted read-only; default read-write' },
    sizeBytes: { type: 'integer', minimum: 1, description: "tmpfs: its size limit in bytes; default the kernel's (half the RAM)" },
    mode: {
      type: ['string', 'integer'],
      description:
        'quoted octal bits ("0750"; a number is refused): of the directory ensure creates (default 0755), or of the tmpfs (default 1777)',
    },
    ensure: {
      type: 'boolean',
      description: "bind: create a missing source directory at the container's create (else a missing source is refused at apply)",
    },
    volumeRef: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      description: 'volume: the Volume at that scope, made (reclaimPolicy Delete) when it does not exist',
      properties: {
        name: named("the volume's name"),
        realm: named("its realm; default the container's"),
        space: named('its space, for a space- or stack-scoped volume'),
        stack: named('its stack, for a stack-scoped volume (needs space)'),
      },
    },
  },
};

/** A container's scope fields: in a Cell inherited from the cell, in a Container document required. */
const inherited = (what: string) =>
  named(`the container's ${what}; in a Cell inherited from the cell (a different value is refused), in a Container document required`);

const containerProps: Schema = {
  id: named("the container's name in its cell (a Container document's equals metadata.name); root is reserved for the cell's root"),
  realmId: inherited('realm'),
  spaceId: inherited('space'),
  stackId: inherited('stack'),
  cellId: inherited('cell'),
  containerdId: {
    type: 'string',
    description: "upstream's field, set by its daemon; accepted and not used: kukeon derives the id and records it in status.containerdId",
  },
  root: {
    type: 'boolean',
    description:
      "this container is the cell's root: it owns the cell's network, IPC and UTS namespaces, starts first and stops last; " +
      'without one kukeon synthesizes a root that needs no image',
  },
  image: {
    type: 'string',
    minLength: 1,
    description: 'image reference (busybox is docker.io/library/busybox:latest; @sha256: pins a digest); required outside the system realm',
  },
  command: { type: 'string', minLength: 1, description: "replaces the image's entrypoint" },
  args: { type: 'array', items: { type: 'string' }, description: "arguments; they replace the image's cmd" },
  env: {
    type: 'array',
    items: { type: 'string', pattern: '^[^=]+=' },
    description: "environment variables as K=V, over the image's environment",
  },
  workingDir: { type: 'string', pattern: '^/', description: "the process's working directory (absolute); default the image's" },
  ports: { type: 'array', items: port, description: 'published ports (network plugin); a change applies at the next start of the cell' },
  hostNetwork: { type: 'boolean', description: "the host's network namespace; every container of the cell must agree" },
  resources,
  memoryLimitBytes: { type: 'integer', minimum: 0, description: 'upstream key, mapped to resources.memory.max (bytes)' },
  cpuShares: {
    type: 'integer',
    minimum: 2,
    maximum: 262144,
    description: "upstream key, mapped to resources.cpu.weight by runc's shares-to-weight formula",
  },
  pidsLimit: { type: 'integer', minimum: 1, description: 'upstream key, mapped to resources.pids.max' },
  restartPolicy: {
    enum: [...RESTART_POLICIES],
    description: "what the daemon does when the container exits (Docker's semantics): never (default), always, on-failure, unless-stopped",
  },
  restartMaxRetries: {
    type: 'integer',
    minimum: 1,
    description: 'on-failure only: restarts before the container is left Failed; default 5',
  },
  restartBackoffSeconds: {
    type: 'number',
    minimum: 0,
    maximum: 3600,
    description: "the first restart's delay in seconds (fractions allowed), doubling after each restart up to 60 s; default 0.1",
  },
  privileged: {
    type: 'boolean',
    description: "Docker's --privileged: all capabilities, no seccomp, no masked paths, every host device (allowPrivileged)",
  },
  hostPID: { type: 'boolean', description: "the host's PID namespace (allowPrivileged)" },
  user: {
    type: 'string',
    pattern: '^[^:\\s]+(:[^:\\s]+)?$',
    description: "uid[:gid] or names (nobody, app:app) from the image's /etc/passwd and /etc/group; default the image's User, else root",
  },
  capabilities: {
    type: 'object',
    additionalProperties: false,
    description: "changes to the default capability set (Docker's); names with or without CAP_, or ALL",
    properties: {
      add: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        description: 'capabilities added (allowPrivileged beyond the default set)',
      },
      drop: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'capabilities removed' },
    },
  },
  securityOpts: {
    type: 'array',
    items: { type: 'string' },
    description:
      "seccomp=unconfined, seccomp=<JSON profile path>, no-new-privileges[=true|false]; default: kukeon's seccomp profile and no-new-privileges",
  },
  readOnlyRootFilesystem: {
    type: 'boolean',
    description: 'the root filesystem mounted read-only (tmpfs paths stay writable); default false',
  },
  devices: {
    type: 'array',
    description: 'host device nodes, at the same path inside: a path, or { path, permissions } (allowPrivileged)',
    // a path, or { path, permissions }: pattern applies to the string form only, the object keywords to the object
    items: {
      type: ['string', 'object'],
      pattern: '^/',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: { type: 'string', pattern: '^/', description: 'the host device node (absolute), at the same path in the container' },
        permissions: { type: 'string', pattern: '^(?!.*(.).*\\1)[rwm]{1,3}$', description: 'r (read), w (write), m (mknod); default rwm' },
      },
    },
  },
  tmpfs: { type: 'array', items: { type: 'string', pattern: '^/' }, description: 'paths mounted as a fresh tmpfs (nosuid,nodev,noexec)' },
  secrets: { type: 'array', items: containerSecret, description: 'values handed over at each start (never stored in the cell)' },
  attachable: {
    type: 'boolean',
    description: 'runs with a terminal kukeond owns: kuke attach reaches it, its output goes to kuke log (needs kukeond; not the root)',
  },
  terminal: {
    type: 'boolean',
    description: 'with attachable: false runs it without a terminal, its stdout and stderr kept apart; default true',
  },
  stdin: {
    type: 'boolean',
    description: 'with attachable and terminal: false: its stdin stays open for attached clients (docker -i); default closed',
  },
  stdinOnce: {
    type: 'boolean',
    description: "with stdin: the first attached client's end of input closes the container's stdin (docker's stdin-once)",
  },
  tty: {
    type: 'object',
    additionalProperties: false,
    properties: {},
    description: "upstream's terminal-server settings; only an empty object is accepted (needs attachable)",
  },
  volumes: { type: 'array', description: 'bind mounts of host paths, tmpfs mounts and named volumes', items: volumeMount },
};

const container: Schema = {
  type: 'object',
  additionalProperties: false,
  // image: required except in the system realm, whose kukeond runs the host's Node on an empty rootfs (checked in validate-document)
  required: ['id'],
  properties: containerProps,
};

const status: Schema = { type: 'object', description: 'written by kukeon (state, reasons, IPs, cgroup paths); ignored on apply' };

function doc(kind: Kind, description: string, spec: Schema): Schema {
  return {
    $id: `https://kukeon.io/schemas/v1beta1/${kind.toLowerCase()}.json`,
    title: `kukeon ${kind}`,
    description,
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'metadata', ...(kind === 'Realm' ? [] : ['spec'])],
    properties: {
      apiVersion: { const: API_VERSION, description: `the format's version: ${API_VERSION}` },
      kind: { const: kind, description: `the kind of the document: ${kind}` },
      metadata,
      spec,
      status,
    },
  };
}

const parent = (what: string) => named(`the ${what} it belongs to (apply creates a missing one; create refuses it)`);
const sameAsName = (what: string) => named(`the ${what}'s name again (upstream's field): it must equal metadata.name; default the name`);

export const SCHEMAS: Record<Kind, Schema> = {
  Realm: doc('Realm', 'the top of the hierarchy: one containerd namespace, a cgroup and its spaces', {
    type: 'object',
    additionalProperties: false,
    description: "the realm's settings",
    properties: {
      namespace: {
        type: 'string',
        pattern: '^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$',
        maxLength: 76,
        description: 'containerd namespace of its containers and images; default kukeon-<realm>',
      },
      resources,
      registryCredentials: {
        type: 'array',
        description: "credentials for pulling the realm's images, matched by server (before the kuke login file)",
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password', 'serverAddress'],
          properties: {
            username: { type: 'string', minLength: 1, description: 'the registry user' },
            password: { type: 'string', description: 'its password or token' },
            serverAddress: { type: 'string', minLength: 1, description: 'registry host[:port]; docker.io for Docker Hub' },
          },
        },
      },
    },
  }),
  Space: doc('Space', 'a network inside a realm: its own bridge and subnet (cni plugin), a cgroup and its stacks', {
    type: 'object',
    additionalProperties: false,
    description: "the space's settings",
    required: ['realmId'],
    properties: {
      realmId: parent('realm'),
      cniConfigPath: {
        type: 'string',
        pattern: '^/',
        description: "absolute path of the space's conflist, honoured and never replaced; default <confDir>/<realm>-<space>.conflist",
      },
      network: {
        type: 'object',
        additionalProperties: false,
        description: "the space's network (cni plugin)",
        properties: {
          subnet: {
            type: 'string',
            pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$',
            description: 'IPv4 CIDR; default: the first free /24 of the network plugin pool',
          },
          allowFrom: {
            type: 'array',
            uniqueItems: true,
            items: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$' },
            description: "spaces (name of this realm's, or realm/name) whose cells may reach this space's cells; default none",
          },
        },
      },
      resources,
    },
  }),
  Stack: doc('Stack', 'a group of cells inside a space, with a cgroup of its own', {
    type: 'object',
    additionalProperties: false,
    description: "the stack's settings",
    required: ['realmId', 'spaceId'],
    properties: { id: sameAsName('stack'), realmId: parent('realm'), spaceId: parent('space'), resources },
  }),
  Cell: doc('Cell', "containers that share a root's network, IPC and UTS namespaces, started and stopped together", {
    type: 'object',
    additionalProperties: false,
    description: "the cell's settings and containers",
    required: ['realmId', 'spaceId', 'stackId', 'containers'],
    properties: {
      id: sameAsName('cell'),
      realmId: parent('realm'),
      spaceId: parent('space'),
      stackId: parent('stack'),
      rootContainerId: named("the container that is the cell's root (as root: true on it); without one kukeon synthesizes a root"),
      containers: {
        type: 'array',
        minItems: 1,
        items: container,
        description: "the cell's containers, at least one; ids unique in the cell",
      },
      resources,
      tty: {
        type: 'object',
        additionalProperties: false,
        description: "the cell's terminal settings",
        properties: { default: named('the attachable container kuke attach picks when --container is not given') },
      },
      autoDelete: {
        type: 'boolean',
        description: 'kukeond deletes the cell 3 s after every workload has exited for good (kuke run --rm sets it); default false',
      },
      cgroupParent: {
        type: 'string',
        maxLength: 1024,
        // absolute, no `.` or `..` segment: the cell's cgroup is made below it in every hierarchy
        pattern: '^(/(?!\\.\\.?(/|$))[A-Za-z0-9_.:@-]{1,255})+$',
        description:
          "an absolute cgroup path (the kubelet's pod cgroup, /kubepods/burstable/pod<uid>) the cell's cgroup is made under instead of its stack's; fixed once the cell exists",
      },
    },
  }),
  Container: doc('Container', 'one container of a cell, as a document of its own', {
    type: 'object',
    additionalProperties: false,
    description: "the container's settings",
    required: ['realmId', 'spaceId', 'stackId', 'cellId'],
    properties: containerProps,
  }),
};

/** The Volume kind (scoped: its metadata names its realm, space and stack); for editors (`kuke schema volume`). */
export const VOLUME_SCHEMA: Schema = {
  $id: 'https://kukeon.io/schemas/v1beta1/volume.json',
  title: 'kukeon Volume',
  description: 'a kukeon-owned directory that outlives the cells mounting it (volumeRef), scoped to a realm, space or stack',
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'metadata'],
  properties: {
    apiVersion: { const: API_VERSION, description: `the format's version: ${API_VERSION}` },
    kind: { const: 'Volume', description: 'the kind of the document: Volume' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'realm'],
      description: "the volume's name and scope: the deepest of realm, space and stack",
      properties: {
        name: named("the volume's name"),
        realm: named('its realm'),
        space: named('a space-scoped volume (with realm)'),
        stack: named('a stack-scoped volume (with realm and space)'),
        labels,
      },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      description: "the volume's settings",
      properties: {
        reclaimPolicy: {
          enum: ['', 'Delete', 'Retain'],
          description:
            'what a delete of the volume (or a cascade delete of its scope) does with its data: Delete (the default) removes it, ' +
            'Retain keeps it under <run-path>/run/retained-volumes/',
        },
      },
    },
    status,
  },
};
