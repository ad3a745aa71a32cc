// The CRI streaming requests as the gRPC layer hands them over (plain objects, proto field names kept), and their
// checks as the kubelet's streaming server makes them before issuing a URL.

import { KukeonError } from '../../../sdk';
import type { StreamingAttachRequest, StreamingExecRequest } from './streaming-runtime';

export interface CriExecRequest {
  container_id?: string;
  cmd?: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface CriAttachRequest {
  container_id?: string;
  stdin?: boolean;
  tty?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface CriPortForwardRequest {
  pod_sandbox_id?: string;
  port?: number[];
}

export function toExecRequest(req: CriExecRequest): StreamingExecRequest {
  const streams = checkStreams(req);
  if (!req.cmd?.length) throw invalid('cmd is required');
  return { containerId: containerId(req.container_id), cmd: [...req.cmd], ...streams };
}

export function toAttachRequest(req: CriAttachRequest): StreamingAttachRequest {
  return { containerId: containerId(req.container_id), ...checkStreams(req) };
}

export function toPodSandboxId(req: CriPortForwardRequest): string {
  if (!req.pod_sandbox_id) throw invalid('missing required pod_sandbox_id');
  return req.pod_sandbox_id;
}

function checkStreams(req: CriAttachRequest): { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean } {
  const streams = { tty: !!req.tty, stdin: !!req.stdin, stdout: !!req.stdout, stderr: !!req.stderr };
  if (!streams.stdin && !streams.stdout && !streams.stderr) throw invalid('one of stdin, stdout, or stderr must be set');
  if (streams.tty && streams.stderr) throw invalid('tty and stderr cannot both be true');
  return streams;
}

function containerId(id: string | undefined): string {
  if (!id) throw invalid('missing required container_id');
  return id;
}

function invalid(message: string): KukeonError {
  return new KukeonError('KUKEON_E_INVALID', message);
}
