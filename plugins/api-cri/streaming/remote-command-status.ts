// How a remote command ended, as the kubelet writes it on the error stream: v4.channel.k8s.io sends a
// metav1.Status as JSON (client-go reads the exit code from its `ExitCode` cause); the older protocols send the
// failure's message as text and nothing on success.

export const REMOTE_COMMAND_V4 = 'v4.channel.k8s.io';

export type RemoteCommandOutcome =
  | { kind: 'success' }
  | { kind: 'exit'; code: number; message: string }
  | { kind: 'internal'; message: string };

/** The bytes for the error stream, or undefined when there is nothing to send. */
export function encodeRemoteCommandOutcome(protocol: string, outcome: RemoteCommandOutcome): Buffer | undefined {
  if (outcome.kind === 'success') return protocol === REMOTE_COMMAND_V4 ? Buffer.from('{"metadata":{},"status":"Success"}') : undefined;
  // Field order as Go's encoding/json writes metav1.Status.
  const status =
    outcome.kind === 'exit'
      ? {
          metadata: {},
          status: 'Failure',
          message: `command terminated with non-zero exit code: ${outcome.message}`,
          reason: 'NonZeroExitCode',
          details: { causes: [{ reason: 'ExitCode', message: String(outcome.code) }] },
        }
      : {
          metadata: {},
          status: 'Failure',
          message: `Internal error occurred: ${outcome.message}`,
          reason: 'InternalError',
          details: { causes: [{ message: outcome.message }] },
          code: 500,
        };
  return Buffer.from(protocol === REMOTE_COMMAND_V4 ? JSON.stringify(status) : status.message);
}
