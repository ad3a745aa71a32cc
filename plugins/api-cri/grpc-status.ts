// kukeon's error codes as gRPC status codes for the kubelet: NOT_FOUND for what is gone, INVALID_ARGUMENT for a
// refused request, and so on; the message keeps kukeon's own text (with its hint).

import { isKukeonError } from '../../sdk';

const STATUS = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
  INTERNAL: 13,
  UNKNOWN: 2,
};

const BY_CODE: Record<string, number> = {
  KUKEON_E_NOT_FOUND: STATUS.NOT_FOUND,
  KUKEON_E_PARENT_NOT_FOUND: STATUS.NOT_FOUND,
  KUKEON_E_EXISTS: STATUS.ALREADY_EXISTS,
  KUKEON_E_CONFLICT: STATUS.ALREADY_EXISTS,
  KUKEON_E_INVALID: STATUS.INVALID_ARGUMENT,
  KUKEON_E_INVALID_NAME: STATUS.INVALID_ARGUMENT,
  KUKEON_E_USAGE: STATUS.INVALID_ARGUMENT,
  KUKEON_E_UNSUPPORTED_FIELD: STATUS.INVALID_ARGUMENT,
  KUKEON_E_FORBIDDEN: STATUS.FAILED_PRECONDITION,
  KUKEON_E_STATE: STATUS.FAILED_PRECONDITION,
  KUKEON_E_UNAVAILABLE: STATUS.UNAVAILABLE,
  KUKEON_E_BUSY: STATUS.UNAVAILABLE,
};

export interface GrpcError extends Error {
  code: number;
  details: string;
}

/** A gRPC status error as grpc-js sends it. */
function status(code: number, message: string): GrpcError {
  return Object.assign(new Error(message), { code, details: message });
}

export function grpcError(err: unknown): GrpcError {
  if (!isKukeonError(err)) {
    const code = (err as { code?: unknown })?.code;
    return status(typeof code === 'number' ? code : STATUS.UNKNOWN, String((err as Error)?.message ?? err));
  }
  const hint = err.details?.hint ? ` (${err.details.hint})` : '';
  return status(BY_CODE[err.code] ?? STATUS.UNKNOWN, `${err.code}: ${err.message}${hint}`);
}

export function notFound(what: string): GrpcError {
  return status(STATUS.NOT_FOUND, `${what} not found`);
}

export function invalid(what: string): GrpcError {
  return status(STATUS.INVALID_ARGUMENT, what);
}

export function unimplemented(what: string): GrpcError {
  return status(12, `${what} is not implemented by kukeon`);
}
