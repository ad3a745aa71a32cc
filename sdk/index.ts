// kukeon/sdk: the public surface for plugin authors. Import nothing else from kukeon.

export * from './errors';
export * from './resources';
export * from './secrets';
export * from './hooks';
export * from './host';
export * from './plugin';
export * from './oci';
export * from './failpoint';
export * from './quantity';
export * from './ipv4';
export * from './capabilities';
export * from './security-opts';
export * from './controller-api';
export * from './sessions';
export {
  type AtomicWriteOptions,
  cleanStrayTemps,
  ensureDirDurable,
  fsyncDir,
  tempPathFor,
  writeFileAtomic,
  writeFileAtomicSync,
} from './atomic-write';
/** The daemon's front ends (api, cri) make and guard their unix sockets alike. */
export { claimSocket, groupId, groupName, pidFileOf, prepareSocketDir, probeSocket, setSocketMode } from './socket-file';
export type * from './services';
export * from './scoped-kinds';
