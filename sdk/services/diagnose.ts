/** One finding of a `*.diagnose` service, printed by `kuke doctor`. */
export interface Diagnosis {
  check: string;
  status: 'ok' | 'warn' | 'error';
  detail: string;
  remedy?: string;
}

export interface DiagnoseService {
  diagnose(): Promise<Diagnosis[]>;
}
