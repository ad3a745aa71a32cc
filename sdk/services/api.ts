import type { ControllerApi } from '../controller-api';

export interface ApiListenOptions {
  /** The unix socket to serve on (kukeond's `--socket`, default `/run/kukeon/kukeond.sock`). */
  socketPath: string;
  /** The group that may connect (socket `0660 root:<group>`) when it exists; else the socket is `0600`. */
  group?: string;
}

/** `api`: a front end of the daemon. It serves the host's ControllerApi, unchanged, to clients. */
export interface ApiService {
  listen(api: ControllerApi, options?: Partial<ApiListenOptions>): Promise<{ address: string; close(): Promise<void> }>;
}
