import type { DiagnoseService } from './diagnose';

export interface ImageSummary {
  name: string;
  digest: string;
  size: number;
}

/** `runtime.images`: images in the realm's runtime namespace. */
export interface ImageService {
  load(realm: string, archive: NodeJS.ReadableStream): Promise<ImageSummary[]>;
  list(realm: string): Promise<ImageSummary[]>;
}

/** `runtime.logs`: where a container's stdout and stderr are written, and a reader for them. */
export interface LogService {
  path(cellPath: readonly string[], containerId: string): string;
}

export interface WaitResult {
  exitCode: number;
  exitSignal?: string;
  finishTime?: string;
}

/** `runtime.wait`: blocks until a container's task exits. */
export interface WaitService {
  wait(cellPath: readonly string[], containerId: string, signal?: AbortSignal): Promise<WaitResult>;
}

export type RuntimeDiagnose = DiagnoseService;
