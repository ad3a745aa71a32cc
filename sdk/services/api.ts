import type { ControllerApi } from '../controller-api';

export interface ApiListenOptions {
  /** The unix socket to serve on (kukeond's `--socket`, default `/run/kukeon/kukeond.sock`). */
  socketPath: string;
  /** The group that may connect (socket `0660 root:<group>`) when it exists; else the socket is `0600`. */
  group?: string;
}

/** `api`: a front end of the daemon. It serves the host's ControllerApi, unchanged, to clients. */
export interface ApiService {
  /**
   * Optional: makes the socket's directory as listen() makes it and returns the socket listen() serves on, so the
   * daemon can keep its files there (the alive file of its start-up pass) before it serves.
   */
  prepare?(options?: Partial<ApiListenOptions>): string;
  listen(api: ControllerApi, options?: Partial<ApiListenOptions>): Promise<{ address: string; close(): Promise<void> }>;
}
