/**
 * A shell line that idles until the container is stopped. A workload is PID 1 of its own PID namespace, where a
 * signal without a handler does nothing: `exec sleep N` ignores a stop's SIGTERM, and every stop, delete or
 * purge of it waits out the 10 s grace before the SIGKILL.
 */
export function idle(seconds = 300): string {
  return `trap 'exit 0' TERM; sleep ${seconds} & wait`;
}
