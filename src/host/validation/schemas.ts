// One JSON Schema per kind: what ajv checks on apply, and what `kuke schema KIND` prints for editors.

import { API_VERSION, RESTART_POLICIES } from '../../../sdk';
import type { Kind } from '../../../sdk';
import { NAME_PATTERN } from './names';

type Schema = Record<string, unknown>;

const name = { type: 'string', pattern: NAME_PATTERN, maxLength: 63 };
const size = {
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^[0-9]+(Ki|Mi|Gi|Ti)?$' },
  ],
};

const resources: Schema = {
  type: 'object',
  additionalProperties: false,
  description: 'Limits, one shape at every level (cgroup v2 names).',
  properties: {
    cpu: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max: { type: 'string', pattern: '^(max|[0-9]+)( [0-9]+)?$', description: '"<quota> <period>" in microseconds, or "max"' },
        weight: { type: 'integer', minimum: 1, maximum: 10000 },
      },
    },
    memory: { type: 'object', additionalProperties: false, properties: { max: size, high: size } },
    pids: { type: 'object', additionalProperties: false, properties: { max: { type: 'integer', minimum: 1 } } },
    io: { type: 'object', additionalProperties: false, properties: { weight: { type: 'integer', minimum: 1, maximum: 10000 } } },
  },
};

const metadata: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name,
    labels: {
      type: 'object',
      description: "Kubernetes' label rules: key [prefix/]name (name at most 63 characters, prefix a DNS subdomain), value at most 63",
      propertyNames: {
        maxLength: 317,
        pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$',
      },
      additionalProperties: { type: 'string', maxLength: 63, pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$' },
    },
  },
};

const port: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['containerPort'],
  properties: {
    containerPort: { type: 'integer', minimum: 1, maximum: 65535 },
    hostPort: { type: 'integer', minimum: 1, maximum: 65535, description: 'published on the host; without it the port is not published' },
    protocol: { enum: ['tcp', 'udp'], description: 'default tcp' },
    hostIP: { type: 'string', pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$', description: 'only this host address' },
  },
};

const secretRef: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'realm'],
  description: 'a Secret: its name and scope (realm, then space, stack and cell without gaps)',
  properties: { name, realm: name, space: name, stack: name, cell: name },
};

const containerSecret: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  description: 'exactly one of fromFile, fromEnv, secretRef; with mountPath a read-only file (0400), else the variable `name`',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 255 },
    fromFile: { type: 'string', pattern: '^/', description: 'a host file, read at each start' },
    fromEnv: { type: 'string', description: 'a variable of the environment of the kukeon process that starts the container' },
    secretRef,
    mountPath: { type: 'string', pattern: '^/', description: 'where the value appears as a read-only file' },
  },
};

const containerProps: Schema = {
  id: name,
  realmId: name,
  spaceId: name,
  stackId: name,
  cellId: name,
  containerdId: { type: 'string' },
  root: { type: 'boolean' },
  image: { type: 'string', minLength: 1 },
  command: { type: 'string', minLength: 1, description: "replaces the image's entrypoint" },
  args: { type: 'array', items: { type: 'string' }, description: "replace the image's cmd" },
  env: { type: 'array', items: { type: 'string', pattern: '^[^=]+=' }, description: 'K=V' },
  workingDir: { type: 'string', pattern: '^/' },
  ports: { type: 'array', items: port, description: 'published ports (network plugin)' },
  hostNetwork: { type: 'boolean', description: "the host's network namespace; every container of the cell must agree" },
  resources,
  memoryLimitBytes: { type: 'integer', minimum: 0, description: 'upstream key, mapped to resources.memory.max' },
  cpuShares: { type: 'integer', minimum: 2, maximum: 262144, description: 'upstream key, mapped to resources.cpu.weight' },
  pidsLimit: { type: 'integer', minimum: 1, description: 'upstream key, mapped to resources.pids.max' },
  restartPolicy: { enum: [...RESTART_POLICIES], description: 'what the daemon does when the container exits; default never' },
  restartMaxRetries: { type: 'integer', minimum: 1, description: 'on-failure: restarts before Failed; default 5' },
  restartBackoffSeconds: { type: 'number', minimum: 0, maximum: 3600, description: 'first restart delay, doubling to 60 s; default 0.1' },
  privileged: {
    type: 'boolean',
    description: "Docker's --privileged: all capabilities, no seccomp, no masked paths, every host device (allowPrivileged)",
  },
  hostPID: { type: 'boolean', description: "the host's PID namespace (allowPrivileged)" },
  user: {
    type: 'string',
    pattern: '^[^:\\s]+(:[^:\\s]+)?$',
    description: "uid[:gid] or names (nobody, app:app) from the image's /etc/passwd and /etc/group",
  },
  capabilities: {
    type: 'object',
    additionalProperties: false,
    description: "over the default set (Docker's); names with or without CAP_; ALL",
    properties: {
      add: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'added capabilities (allowPrivileged)' },
      drop: { type: 'array', items: { type: 'string', minLength: 1 } },
    },
  },
  securityOpts: {
    type: 'array',
    items: { type: 'string' },
    description: 'seccomp=unconfined, seccomp=<JSON profile path>, no-new-privileges[=true|false]',
  },
  readOnlyRootFilesystem: { type: 'boolean', description: 'the root filesystem mounted read-only' },
  devices: {
    type: 'array',
    description: 'host device nodes, at the same path inside (allowPrivileged)',
    // a path, or { path, permissions }: pattern applies to the string form only, the object keywords to the object
    items: {
      type: ['string', 'object'],
      pattern: '^/',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: { type: 'string', pattern: '^/' },
        permissions: { type: 'string', pattern: '^(?!.*(.).*\\1)[rwm]{1,3}$', description: 'r, w, m; default rwm' },
      },
    },
  },
  tmpfs: { type: 'array', items: { type: 'string', pattern: '^/' }, description: 'paths mounted as a fresh tmpfs (nosuid,nodev,noexec)' },
  secrets: { type: 'array', items: containerSecret, description: 'values handed over at each start (never stored in the cell)' },
  attachable: {
    type: 'boolean',
    description: 'runs with a terminal kukeond owns: kuke attach reaches it, its output goes to kuke log (needs kukeond; not the root)',
  },
  tty: {
    type: 'object',
    additionalProperties: false,
    properties: {},
    description: "upstream's terminal-server settings; only an empty object is accepted (needs attachable)",
  },
  volumes: {
    type: 'array',
    description: 'bind mounts of host paths, tmpfs mounts and named volumes',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['target'],
      properties: {
        kind: { enum: ['', 'bind', 'tmpfs', 'volume'], description: 'default bind' },
        source: { type: 'string', description: 'bind: absolute host path (may contain the variable CELL_NAME); volume: the volume name' },
        target: { type: 'string', description: 'absolute path in the container' },
        readOnly: { type: 'boolean' },
        sizeBytes: { type: 'integer', minimum: 1, description: 'tmpfs: its size limit' },
        mode: {
          type: ['string', 'integer'],
          description: 'quoted octal bits ("0750"): of the directory ensure creates, or of the tmpfs; a number is refused',
        },
        ensure: { type: 'boolean', description: 'bind: create a missing source directory' },
        volumeRef: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name, realm: name, space: name, stack: name },
        },
      },
    },
  },
};

const container: Schema = {
  type: 'object',
  additionalProperties: false,
  // image: required except in the system realm, whose kukeond runs the host's Node on an empty rootfs (checked in validate-document)
  required: ['id'],
  properties: containerProps,
};

function doc(kind: Kind, spec: Schema): Schema {
  return {
    $id: `https://kukeon.io/schemas/v1beta1/${kind.toLowerCase()}.json`,
    title: `kukeon ${kind}`,
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'metadata', ...(kind === 'Realm' ? [] : ['spec'])],
    properties: {
      apiVersion: { const: API_VERSION },
      kind: { const: kind },
      metadata,
      spec,
      status: { type: 'object', description: 'written by kukeon; ignored on apply' },
    },
  };
}

export const SCHEMAS: Record<Kind, Schema> = {
  Realm: doc('Realm', {
    type: 'object',
    additionalProperties: false,
    properties: {
      namespace: {
        type: 'string',
        pattern: '^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$',
        maxLength: 76,
        description: 'containerd namespace; default kukeon-<realm>',
      },
      resources,
      registryCredentials: {
        type: 'array',
        description: "credentials for pulling the realm's images (before the kuke login file)",
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password', 'serverAddress'],
          properties: {
            username: { type: 'string', minLength: 1 },
            password: { type: 'string' },
            serverAddress: { type: 'string', minLength: 1, description: 'registry host[:port]; docker.io for Docker Hub' },
          },
        },
      },
    },
  }),
  Space: doc('Space', {
    type: 'object',
    additionalProperties: false,
    required: ['realmId'],
    properties: {
      realmId: name,
      cniConfigPath: { type: 'string', pattern: '^/', description: 'absolute path of the conflist file' },
      network: {
        type: 'object',
        additionalProperties: false,
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
            description: 'spaces (name, or realm/name) whose cells may reach this space',
          },
        },
      },
      resources,
    },
  }),
  Stack: doc('Stack', {
    type: 'object',
    additionalProperties: false,
    required: ['realmId', 'spaceId'],
    properties: { id: name, realmId: name, spaceId: name, resources },
  }),
  Cell: doc('Cell', {
    type: 'object',
    additionalProperties: false,
    required: ['realmId', 'spaceId', 'stackId', 'containers'],
    properties: {
      id: name,
      realmId: name,
      spaceId: name,
      stackId: name,
      rootContainerId: name,
      containers: { type: 'array', minItems: 1, items: container },
      resources,
      tty: {
        type: 'object',
        additionalProperties: false,
        properties: { default: { ...name, description: 'the attachable container kuke attach picks when --container is not given' } },
      },
      autoDelete: {
        type: 'boolean',
        description: 'kukeond deletes the cell once every workload has exited for good (kuke run --rm)',
      },
    },
  }),
  Container: doc('Container', {
    type: 'object',
    additionalProperties: false,
    required: ['realmId', 'spaceId', 'stackId', 'cellId'],
    properties: containerProps,
  }),
};

/** The Volume kind (scoped: its metadata names its realm, space and stack); for editors (`kuke schema volume`). */
export const VOLUME_SCHEMA: Schema = {
  $id: 'https://kukeon.io/schemas/v1beta1/volume.json',
  title: 'kukeon Volume',
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'metadata'],
  properties: {
    apiVersion: { const: API_VERSION },
    kind: { const: 'Volume' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'realm'],
      properties: {
        name,
        realm: name,
        space: { ...name, description: 'a space-scoped volume (with realm)' },
        stack: { ...name, description: 'a stack-scoped volume (with realm and space)' },
        labels: (metadata.properties as Record<string, unknown>).labels,
      },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      properties: {
        reclaimPolicy: {
          enum: ['', 'Delete', 'Retain'],
          description: 'what a delete of the volume (or a cascade delete of its scope) does with its data; default Delete',
        },
      },
    },
    status: { type: 'object', description: 'written by kukeon; ignored on apply' },
  },
};
