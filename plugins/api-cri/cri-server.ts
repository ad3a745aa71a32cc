// Binds runtime.v1's RuntimeService and ImageService (proto/runtime/v1/api.proto, kukeon's transcription) to their
// unix socket, with the same permissions as kukeond's, and the streaming server for Exec, Attach and PortForward.

import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ConsoleService, ControllerApi } from '../../sdk';
import { claimSocket, groupId, prepareSocketDir, setSocketMode } from '../../sdk';
import { relayWithAuthorityFix } from './authority-proxy';
import { CriImages } from './cri-images';
import type { CriRecords } from './cri-records';
import { CriRuntime, type CriSettings } from './cri-runtime';
import { grpcError } from './grpc-status';

export const PROTO_FILE = path.join(__dirname, '..', '..', '..', 'plugins', 'api-cri', 'proto', 'runtime', 'v1', 'api.proto');

export interface CriServeOptions extends CriSettings {
  socketPath: string;
  group?: string;
  /** Where ImageFsInfo says images live (containerd's root). */
  imageFsMountpoint: string;
  /** The streaming server's address (default 127.0.0.1). */
  streamAddress: string;
  /** A private directory (0700) for the socket grpc-js binds behind the authority relay. */
  privateDir: string;
}

type Log = (format: string, ...args: unknown[]) => void;
type Handler = (req: Record<string, unknown>) => unknown;

function unary(log: Log, name: string, fn: Handler): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const started = Date.now();
    Promise.resolve()
      .then(() => fn(call.request as Record<string, unknown>))
      .then(
        (res) => {
          log('%s ok in %d ms', name, Date.now() - started);
          callback(null, res);
        },
        (err) => {
          const e = grpcError(err);
          log('%s failed in %d ms: %s', name, Date.now() - started, (e as Error).message);
          callback(e as grpc.ServiceError);
        },
      );
  };
}

export async function serveCri(
  api: ControllerApi,
  consoles: ConsoleService | undefined,
  records: CriRecords,
  options: CriServeOptions,
  log: Log,
): Promise<{ address: string; close(): Promise<void> }> {
  const definition = protoLoader.loadSync(PROTO_FILE, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor; ImageService: grpc.ServiceClientConstructor } };
  };
  const images = new CriImages(api, options.realm);
  const runtime = new CriRuntime(api, records, options, images, consoles);
  const { createCriStreaming } = require('./streaming-runtime') as typeof import('./streaming-runtime');
  runtime.streaming = await createCriStreaming(runtime, options.streamAddress);

  const r = (name: string, fn: Handler) => unary(log, name, fn);
  /** GetContainerEvents streams: each ends when its client cancels or the server closes. */
  const subscribers = new Set<AbortController>();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  server.addService(pkg.runtime.v1.RuntimeService.service, {
    Version: r('Version', () => runtime.version()),
    Status: r('Status', () => runtime.status()),
    RunPodSandbox: r('RunPodSandbox', (q) => runtime.runPodSandbox(q)),
    StopPodSandbox: r('StopPodSandbox', (q) => runtime.stopPodSandbox(q)),
    RemovePodSandbox: r('RemovePodSandbox', (q) => runtime.removePodSandbox(q)),
    PodSandboxStatus: r('PodSandboxStatus', (q) => runtime.podSandboxStatus(q)),
    ListPodSandbox: r('ListPodSandbox', (q) => runtime.listPodSandbox(q)),
    CreateContainer: r('CreateContainer', (q) => runtime.createContainer(q)),
    StartContainer: r('StartContainer', (q) => runtime.startContainer(q)),
    StopContainer: r('StopContainer', (q) => runtime.stopContainer(q)),
    RemoveContainer: r('RemoveContainer', (q) => runtime.removeContainer(q)),
    ListContainers: r('ListContainers', (q) => runtime.listContainers(q)),
    ContainerStatus: r('ContainerStatus', (q) => runtime.containerStatus(q)),
    UpdateContainerResources: r('UpdateContainerResources', (req) => runtime.updateContainerResources(req)),
    ReopenContainerLog: r('ReopenContainerLog', (q) => runtime.reopenContainerLog(q)),
    ExecSync: r('ExecSync', (q) => runtime.execSync(q)),
    Exec: r('Exec', (q) => runtime.exec(q)),
    Attach: r('Attach', (q) => runtime.attach(q)),
    PortForward: r('PortForward', (q) => runtime.portForward(q)),
    ContainerStats: r('ContainerStats', (q) => runtime.containerStats(q)),
    PodSandboxStats: r('PodSandboxStats', (q) => runtime.podSandboxStats(q)),
    ListPodSandboxStats: r('ListPodSandboxStats', (q) => runtime.listPodSandboxStats(q)),
    ListContainerStats: r('ListContainerStats', (q) => runtime.listContainerStats(q)),
    UpdateRuntimeConfig: r('UpdateRuntimeConfig', () => ({})),
    GetContainerEvents: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      const ended = new AbortController();
      subscribers.add(ended);
      call.on('cancelled', () => ended.abort());
      ended.signal.addEventListener('abort', () => subscribers.delete(ended));
      log('GetContainerEvents: a subscriber');
      runtime
        .containerEvents((event) => call.write(event), ended.signal)
        .then(
          () => call.end(),
          (err) => call.destroy(grpcError(err)),
        );
    },
  });
  server.addService(pkg.runtime.v1.ImageService.service, {
    ListImages: r('ListImages', (q) => images.list(q)),
    ImageStatus: r('ImageStatus', (q) => images.status(q)),
    PullImage: r('PullImage', (q) => images.pull(q)),
    RemoveImage: r('RemoveImage', (q) => images.remove(q)),
    ImageFsInfo: r('ImageFsInfo', () => images.fsInfo(options.imageFsMountpoint)),
  });

  const gid = options.group ? groupId(options.group) : undefined;
  prepareSocketDir(options.socketPath, gid);
  await claimSocket(options.socketPath);
  fs.mkdirSync(options.privateDir, { recursive: true, mode: 0o700 });
  const inner = path.join(options.privateDir, 'cri-grpc.sock');
  fs.rmSync(inner, { force: true });
  const umask = process.umask(0o177);
  let relay: net.Server;
  try {
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${inner}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    relay = await relayWithAuthorityFix(options.socketPath, inner);
  } finally {
    process.umask(umask);
  }
  setSocketMode(options.socketPath, gid);
  log('serving runtime.v1 (CRI) on %s, streaming on %s', options.socketPath, runtime.streaming?.url);
  let closed: Promise<void> | undefined;
  return {
    address: options.socketPath,
    close: () =>
      (closed ??= (async () => {
        for (const s of subscribers) s.abort();
        runtime.close();
        relay.close();
        await runtime.streaming?.close();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, 5_000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
      })()),
  };
}
