// A CNI plugin's failure as kukeon reports it: which plugin, which command, and the plugin's own error
// (the spec's `code`, `msg` and `details`), under one coded error.

import { KukeonError } from '../../sdk';

/** The spec's well-known error codes (0-99); plugins use 100+ (and 999) for their own. */
const WELL_KNOWN: Record<number, string> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  11: 'try again later',
};

export class CniError extends KukeonError {
  constructor(
    readonly plugin: string,
    readonly command: string,
    /** The plugin's error code, or undefined when it printed no error object. */
    readonly cniCode: number | undefined,
    readonly cniMessage: string,
    readonly cniDetails?: string,
  ) {
    const known = cniCode !== undefined && WELL_KNOWN[cniCode] ? ` (${WELL_KNOWN[cniCode]})` : '';
    const code = cniCode !== undefined ? ` [code ${cniCode}${known}]` : '';
    super('KUKEON_E_CNI', `CNI plugin ${plugin} ${command} failed: ${cniMessage}${cniDetails ? `: ${cniDetails}` : ''}${code}`, {
      plugin: 'cni',
    });
  }
}
