// The api-cri plugin (slot `cri`): kukeond's Kubernetes front end. It serves CRI v1 (runtime.v1 RuntimeService
// and ImageService) on its own unix socket, beside api-socket, over the same controller: a pod sandbox is a cell
// (realm `k8s`, a space per namespace, stack `pods`), a CRI container a container of it. Loaded only when the
// configuration lists it. apply() binds nothing: kukeond calls listen().

import path from 'node:path';
import { definePlugin } from '../../sdk';
import type { ApiListenOptions, ControllerApi, Plugin } from '../../sdk';
import { groupId, prepareSocketDir } from '../../sdk';
import { CriRecords } from './cri-records';
import { shapeCriSpec } from './oci-shaping';

export const DEFAULT_CRI_SOCKET = '/run/kukeon/cri.sock';

export interface ApiCriConfig {
  socket: string;
  group: string;
  realm: string;
  stack: string;
  sandboxImage: string;
  streamAddress: string;
  imageFsMountpoint: string;
}

export function apiCriPlugin(): Plugin<ApiCriConfig> {
  return definePlugin<ApiCriConfig>({
    name: 'api-cri',
    version: '0.1.0',
    slot: 'cri',
    requires: ['store', 'runtime'],
    configSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        socket: {
          type: 'string',
          default: DEFAULT_CRI_SOCKET,
          description: 'the CRI unix socket the kubelet (or crictl) connects to',
          'x-flag': '--cri-socket',
          'x-env': 'KUKEON_CRI_SOCKET',
        },
        group: {
          type: 'string',
          default: 'kukeon',
          description: 'the group allowed to use the socket (0660 root:<group>); without that group the socket is 0600',
          'x-env': 'KUKEON_SOCKET_GROUP',
        },
        realm: { type: 'string', default: 'k8s', description: 'the realm pods run in (a space per Kubernetes namespace)' },
        stack: { type: 'string', default: 'pods', description: "the stack of each namespace's space that holds its pods" },
        sandboxImage: {
          type: 'string',
          default: 'registry.k8s.io/pause:3.6',
          description: "the image of every pod's infra (root) container, pulled when missing",
        },
        streamAddress: {
          type: 'string',
          default: '127.0.0.1',
          description: 'the address the streaming server (Exec, Attach, PortForward URLs) listens on, on a free port',
        },
        imageFsMountpoint: {
          type: 'string',
          default: '/var/lib/containerd',
          description: "what ImageFsInfo names as the images' filesystem (containerd's root)",
        },
      },
    },
    apply(host, config) {
      const records = new CriRecords(path.join(host.paths.runPath, 'cri'));
      // the CRI settings kukeon's documents do not hold, applied after the runtime's and the cgroups plugin's shaping
      host.hooks.ociSpec.tapPromise({ name: 'api-cri', stage: 100 }, async (spec, ctx) => shapeCriSpec(records, spec, ctx));
      // a pod deleted or purged through kuke is forgotten here too
      const forget = async (ctx: { ref: { path: readonly string[] } }) => {
        records.load();
        await records.dropCell(ctx.ref.path);
      };
      host.hooks.delete.for('Cell').tapPromise({ name: 'api-cri', stage: 100 }, forget);
      host.hooks.purge.for('Cell').tapPromise({ name: 'api-cri', stage: 100 }, forget);
      host.services.provide('cri', {
        prepare(options: Partial<ApiListenOptions> = {}) {
          const socketPath = options.socketPath ?? config.socket;
          const group = options.group ?? config.group;
          prepareSocketDir(socketPath, group ? groupId(group) : undefined);
          return socketPath;
        },
        async listen(api: ControllerApi, options: Partial<ApiListenOptions> = {}) {
          const { serveCri } = require('./cri-server') as typeof import('./cri-server');
          return serveCri(
            api,
            host.services.get('runtime.console'),
            records,
            {
              socketPath: options.socketPath ?? config.socket,
              group: options.group ?? config.group,
              realm: config.realm,
              stack: config.stack,
              sandboxImage: config.sandboxImage,
              version: host.version,
              imageFsMountpoint: config.imageFsMountpoint,
              streamAddress: config.streamAddress,
              privateDir: path.join(host.paths.runtimeDir, 'cri'),
            },
            host.log,
          );
        },
      });
    },
  });
}

export default apiCriPlugin();
