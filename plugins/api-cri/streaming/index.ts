// The CRI streaming server: what plugins/api-cri uses to answer Exec, Attach and PortForward.

export type { CriAttachRequest, CriExecRequest, CriPortForwardRequest } from './cri-stream-requests';
export type { StreamingAttachRequest, StreamingExecRequest, StreamingRuntime } from './streaming-runtime';
export { createStreamingServer, type StreamingServer, type StreamingServerOptions } from './streaming-server';
