// Fields of the upstream v1beta1 format that kukeon does not implement yet. They are refused by name
// (KUKEON_E_UNSUPPORTED_FIELD), never silently ignored; the list does not depend on which plugins are loaded.

export const UNSUPPORTED_FIELDS: Record<string, readonly string[]> = {
  metadata: ['generation', 'annotations'],
  'Realm.spec': [],
  'Space.spec': ['defaults'],
  'Stack.spec': [],
  'Cell.spec': ['tty', 'autoDelete', 'nestedCgroupRuntime', 'provenance', 'runtimeEnv', 'ignoreDiskPressure'],
  container: ['networks', 'networksAliases', 'hostCgroup', 'repos', 'git', 'cniConfigPath', 'attachable', 'tty', 'kukeonGroupGID'],
};

/**
 * Container fields kukeon implements for the system realm only, refused elsewhere with KUKEON_E_UNSUPPORTED_FIELD:
 * none since privileged, hostPID and volumes opened to every realm (with the containerd plugin's allowPrivileged).
 */
export const SYSTEM_REALM_FIELDS: readonly string[] = [];
