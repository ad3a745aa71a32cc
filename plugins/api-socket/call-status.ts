// What every kind of call of the server shares: its AbortSignal, fired when the client cancels or goes away, and
// a failure as the gRPC status a client decodes back into the same KukeonError.

import * as grpc from '@grpc/grpc-js';
import { KukeonError, toKukeonError } from '../../sdk';
import { ERROR_METADATA_KEY, encodeError, grpcStatusOf } from './wire';

/** The error as a gRPC status with kukeon's code in the trailing metadata. */
export function statusOf(err: unknown): Partial<grpc.StatusObject> {
  const e = toKukeonError(err);
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_METADATA_KEY, encodeError(e));
  return { code: grpcStatusOf(e.code), details: e.message, metadata };
}

/** An AbortSignal that fires when the call is cancelled (client gone, deadline, Ctrl-C). */
export function callSignal(call: { on(event: 'cancelled', fn: () => void): unknown }): AbortController {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort(new KukeonError('KUKEON_E_CANCELLED', 'the client cancelled the call')));
  return ac;
}
