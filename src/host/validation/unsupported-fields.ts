// Fields of the upstream v1beta1 format that kukeon does not implement yet. They are refused by name
// (KUKEON_E_UNSUPPORTED_FIELD), never silently ignored; the list does not depend on which plugins are loaded.

export const UNSUPPORTED_FIELDS: Record<string, readonly string[]> = {
  metadata: ['generation', 'annotations'],
  'Realm.spec': [],
  'Space.spec': ['defaults'],
  'Stack.spec': [],
  'Cell.spec': ['nestedCgroupRuntime', 'provenance', 'runtimeEnv', 'ignoreDiskPressure'],
  container: ['networks', 'networksAliases', 'hostCgroup', 'repos', 'git', 'cniConfigPath', 'kukeonGroupGID'],
  /** A container's `tty`: these belong to upstream's kuketty terminal server, which kukeon does not run. */
  'container.tty': ['prompt', 'onInit', 'logFile', 'logLevel'],
};

/**
 * Container fields kukeon implements for the system realm only, refused elsewhere with KUKEON_E_UNSUPPORTED_FIELD:
 * none since privileged, hostPID and volumes opened to every realm (with the containerd plugin's allowPrivileged).
 */
export const SYSTEM_REALM_FIELDS: readonly string[] = [];
