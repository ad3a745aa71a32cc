import type { StoreService } from './store';
import type { DiagnoseService } from './diagnose';
import type { ConsoleService, ExecService, ExitEventService, ImageService, LogService, TaskService, WaitService } from './runtime';
import type { OomService } from './cgroups';
import type { ApiService } from './api';

export type { StoreService } from './store';
export type { Diagnosis, DiagnoseService } from './diagnose';
export type {
  ConsoleEvent,
  ConsoleService,
  ExecProcess,
  ExecService,
  ExitEvent,
  ExitEventService,
  ImagePullOptions,
  ImagePullResult,
  ImageService,
  ImageSummary,
  LogService,
  RegistryCredentialSpec,
  RuntimeTask,
  TaskService,
  TaskState,
  TaskSummary,
  WaitService,
  WaitResult,
} from './runtime';
export type { ApiListenOptions, ApiService } from './api';
export type { OomService } from './cgroups';

/** Every service a slot may provide, by name. A plugin provides only the services of its own slot. */
export interface ServiceMap {
  store: StoreService;
  'store.diagnose': DiagnoseService;
  'runtime.images': ImageService;
  'runtime.logs': LogService;
  'runtime.wait': WaitService;
  'runtime.events': ExitEventService;
  'runtime.tasks': TaskService;
  'runtime.exec': ExecService;
  'runtime.console': ConsoleService;
  'runtime.diagnose': DiagnoseService;
  'network.diagnose': DiagnoseService;
  'cgroups.diagnose': DiagnoseService;
  'cgroups.oom': OomService;
  api: ApiService;
  /** The Kubernetes CRI front end (api-cri): the same listen() contract as `api`, on its own socket. */
  cri: ApiService;
}

export type ServiceName = keyof ServiceMap;
