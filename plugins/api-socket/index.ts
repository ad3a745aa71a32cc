// The api-socket plugin (slot `api`): kukeond's front end. It serves the host's ControllerApi as kukeon.v1 over
// gRPC on a unix socket (proto/kukeon/v1/kukeon.proto). apply() only reads its config: nothing is bound, and
// grpc-js is not even loaded, until kukeond calls listen().

import { definePlugin } from '../../sdk';
import type { ApiListenOptions, ControllerApi, Plugin } from '../../sdk';
import { groupId, prepareSocketDir } from '../../sdk';
import { DEFAULT_SOCKET } from './wire';

export interface ApiSocketConfig {
  socket: string;
  group: string;
}

export function apiSocketPlugin(): Plugin<ApiSocketConfig> {
  return definePlugin<ApiSocketConfig>({
    name: 'api-socket',
    version: '0.1.0',
    slot: 'api',
    requires: ['store'],
    configSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        socket: {
          type: 'string',
          default: DEFAULT_SOCKET,
          description: "kukeond's unix socket (its pid file kukeond.pid goes beside it)",
          'x-flag': '--socket',
          'x-env': 'KUKEON_SOCKET',
        },
        group: {
          type: 'string',
          default: 'kukeon',
          description: 'the group allowed to use the socket (0660 root:<group>); without that group the socket is 0600',
          'x-env': 'KUKEON_SOCKET_GROUP',
        },
      },
    },
    apply(host, config) {
      host.services.provide('api', {
        prepare(options: Partial<ApiListenOptions> = {}) {
          const socketPath = options.socketPath ?? config.socket;
          const group = options.group ?? config.group;
          prepareSocketDir(socketPath, group ? groupId(group) : undefined);
          return socketPath;
        },
        async listen(api: ControllerApi, options: Partial<ApiListenOptions> = {}) {
          const socketPath = options.socketPath ?? config.socket;
          const { serveOnSocket } = require('./listen') as typeof import('./listen');
          return serveOnSocket(api, { socketPath, group: options.group ?? config.group }, host.log);
        },
      });
    },
  });
}

export default apiSocketPlugin();
