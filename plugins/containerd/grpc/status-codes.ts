// gRPC status codes kukeon tests for, without loading @grpc/grpc-js: commands that never reach containerd
// (get, delete of stored-only state, help) should not pay for loading the gRPC stack.

export const NOT_FOUND = 5;
export const ALREADY_EXISTS = 6;
export const FAILED_PRECONDITION = 9;
export const UNAVAILABLE = 14;

export function grpcCodeOf(err: unknown): number | undefined {
  const code = (err as { grpcCode?: unknown; code?: unknown } | null)?.grpcCode ?? (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => grpcCodeOf(err) === NOT_FOUND;
export const isAlreadyExists = (err: unknown): boolean => grpcCodeOf(err) === ALREADY_EXISTS;
export const isUnavailable = (err: unknown): boolean => grpcCodeOf(err) === UNAVAILABLE;
