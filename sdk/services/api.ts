/** `api`: the daemon's listener. It serves the host's controller unchanged over a socket. */
export interface ApiService {
  listen(socketPath: string): Promise<{ close(): Promise<void> }>;
}
