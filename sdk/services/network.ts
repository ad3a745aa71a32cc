import type { DiagnoseService } from './diagnose';

/** `network.diagnose`: plugin binaries, ip_forward, iptables. */
export type NetworkDiagnose = DiagnoseService;
