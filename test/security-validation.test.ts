// The security fields of a container (user, capabilities, securityOpts, readOnlyRootFilesystem, devices, tmpfs,
// privileged, hostPID) are accepted in every realm; each bad shape is refused with its field path; and the
// containerd plugin's allowPrivileged: false refuses the dangerous ones by name (KUKEON_E_FORBIDDEN).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { privilegeRefusal } from '../plugins/containerd/privilege-policy';
import { validateDocument } from '../src/host/validation/validate-document';
import { UNSUPPORTED_FIELDS } from '../src/host/validation/unsupported-fields';
import { capabilityName, parseSecurityOpts } from '../sdk';
import type { AnyDoc, KukeonError } from '../sdk';

function refusal(raw: unknown): KukeonError {
  try {
    validateDocument(raw, 2);
  } catch (err) {
    return err as KukeonError;
  }
  throw new assert.Assertion({ message: 'expected a refusal', operator: 'throws', expects: 'error', actual: 'valid', generated: true });
}

const cell = (...containers: Record<string, unknown>[]) => ({
  apiVersion: 'v1beta1',
  kind: 'Cell',
  metadata: { name: 'web' },
  spec: { realmId: 'main', spaceId: 'blog', stackId: 'wp', containers: containers.map((c, i) => ({ id: `c${i}`, image: 'x', ...c })) },
});
const standalone = (spec: Record<string, unknown>) => ({
  kind: 'Container',
  metadata: { name: 'app' },
  spec: { realmId: 'main', spaceId: 'blog', stackId: 'wp', cellId: 'web', image: 'x', ...spec },
});

test('the security fields are accepted in any realm, in their upstream and Docker spellings', () => {
  const ok = cell(
    {
      user: 'nobody',
      capabilities: { add: ['NET_ADMIN', 'cap_sys_time', 'ALL'], drop: ['CAP_NET_RAW', 'all'] },
      securityOpts: ['seccomp=unconfined', 'no-new-privileges=false', 'no-new-privileges:true', 'no-new-privileges'],
      readOnlyRootFilesystem: true,
      devices: ['/dev/fuse', { path: '/dev/null', permissions: 'rw' }, { path: '/dev/zero' }],
      tmpfs: ['/run', '/tmp/'],
      privileged: true,
      hostPID: true,
    },
    { user: '1000:1000', securityOpts: ['seccomp=/etc/kukeon/seccomp.json'] },
    { user: 'app:app' },
  );
  const v = validateDocument(ok, 1);
  assert.equal((v.doc.spec as { containers: { user?: string }[] }).containers[0].user, 'nobody', 'kept as written');
  validateDocument(standalone({ capabilities: { drop: ['ALL'], add: ['chown'] }, tmpfs: ['/scratch'] }), 1);
  for (const f of ['user', 'capabilities', 'securityOpts', 'readOnlyRootFilesystem', 'devices', 'tmpfs', 'privileged', 'hostPID'])
    assert.not.ok(UNSUPPORTED_FIELDS.container.includes(f), `${f} is implemented`);
  for (const f of ['hostCgroup', 'networks', 'repos']) assert.ok(UNSUPPORTED_FIELDS.container.includes(f), `${f} is still refused`);
});

test('each bad shape is refused with the field path, and the reason', () => {
  const cases: [unknown, string, RegExp][] = [
    [
      cell({}, { capabilities: { add: ['NET_ADMIN', 'CAP_FOO'] } }),
      'spec.containers[1].capabilities.add[1]',
      /"CAP_FOO" is not a Linux capability/,
    ],
    [cell({ capabilities: { drop: ['bogus'] } }), 'spec.containers[0].capabilities.drop[0]', /"bogus" is not a Linux capability/],
    [cell({ capabilities: { keep: ['CHOWN'] } }), 'spec.containers[0].capabilities.keep', /unknown field/],
    [cell({ capabilities: { add: 'NET_ADMIN' } }), 'spec.containers[0].capabilities.add', /array/],
    [
      cell({ securityOpts: ['no-new-privileges', 'apparmor=unconfined'] }),
      'spec.containers[0].securityOpts[1]',
      /"apparmor=unconfined" is not an option/,
    ],
    [cell({ securityOpts: ['seccomp=profile.json'] }), 'spec.containers[0].securityOpts[0]', /absolute path of a JSON profile/],
    [cell({ securityOpts: ['seccomp=/etc/../x.json'] }), 'spec.containers[0].securityOpts[0]', /absolute path/],
    [cell({ securityOpts: ['no-new-privileges=maybe'] }), 'spec.containers[0].securityOpts[0]', /true or false/],
    [cell({ securityOpts: 'seccomp=unconfined' }), 'spec.containers[0].securityOpts', /array/],
    [cell({ user: 'a:b:c' }), 'spec.containers[0].user', /pattern/],
    [cell({ user: '' }), 'spec.containers[0].user', /pattern/],
    [cell({ user: 1000 }), 'spec.containers[0].user', /string/],
    [cell({ readOnlyRootFilesystem: 'yes' }), 'spec.containers[0].readOnlyRootFilesystem', /boolean/],
    [cell({ hostPID: 'true' }), 'spec.containers[0].hostPID', /boolean/],
    [cell({ devices: ['/dev/fuse', '/dev/../etc/passwd'] }), 'spec.containers[0].devices[1]', /without "\.\."/],
    [cell({ devices: ['/dev/fuse', { path: '/dev/fuse' }] }), 'spec.containers[0].devices[1].path', /listed twice/],
    [cell({ devices: ['dev/fuse'] }), 'spec.containers[0].devices[0]', /pattern/],
    [cell({ devices: [{ path: '/dev/null', permissions: 'rwx' }] }), 'spec.containers[0].devices[0].permissions', /pattern/],
    [cell({ devices: [{ path: '/dev/null', permissions: 'rr' }] }), 'spec.containers[0].devices[0].permissions', /pattern/],
    [cell({ devices: [{ permissions: 'r' }] }), 'spec.containers[0].devices[0].path', /required/],
    [cell({ devices: [{ path: 'null' }] }), 'spec.containers[0].devices[0].path', /pattern/],
    [cell({ devices: [7] }), 'spec.containers[0].devices[0]', /string,object/],
    [cell({ tmpfs: ['run'] }), 'spec.containers[0].tmpfs[0]', /pattern/],
    [cell({ tmpfs: ['/run', '/'] }), 'spec.containers[0].tmpfs[1]', /cannot be \//],
    [cell({ tmpfs: ['/proc/'] }), 'spec.containers[0].tmpfs[0]', /cannot be \/proc/],
    [cell({ tmpfs: ['/sys/fs/../'] }), 'spec.containers[0].tmpfs[0]', /without "\.\."/],
    [cell({ tmpfs: ['/run', '/run/'] }), 'spec.containers[0].tmpfs[1]', /listed twice/],
    [standalone({ capabilities: { add: ['NOPE'] } }), 'spec.capabilities.add[0]', /"NOPE" is not a Linux capability/],
    [standalone({ securityOpts: ['label=disable'] }), 'spec.securityOpts[0]', /"label=disable" is not an option/],
  ];
  for (const [doc, field, reason] of cases) {
    const e = refusal(doc);
    assert.is(e.code, 'KUKEON_E_INVALID', `${field}: ${e.message}`);
    assert.is(e.details.field, field, e.message);
    assert.is(e.details.document, 2);
    assert.match(e.message, reason);
    assert.match(e.describe(), `field ${field}`);
  }
});

test('capability names: with or without CAP_, any case, ALL; security options in Docker spellings', () => {
  assert.is(capabilityName('net_raw'), 'CAP_NET_RAW');
  assert.is(capabilityName('CAP_SYS_ADMIN'), 'CAP_SYS_ADMIN');
  assert.is(capabilityName('all'), 'ALL');
  assert.is(capabilityName('CAP_ALL'), undefined);
  assert.is(capabilityName('NET_RAWX'), undefined);
  assert.equal(parseSecurityOpts(undefined), { seccomp: 'default' });
  assert.equal(parseSecurityOpts(['seccomp=unconfined', 'no-new-privileges=false']), { seccomp: 'unconfined', noNewPrivileges: false });
  assert.equal(parseSecurityOpts(['seccomp:/p.json', 'no-new-privileges']), { seccomp: { path: '/p.json' }, noNewPrivileges: true });
  assert.equal(parseSecurityOpts(['seccomp=/a.json', 'seccomp=unconfined']), { seccomp: 'unconfined' }, 'the last one wins, as in Docker');
});

test('allowPrivileged: false refuses privileged, hostPID, devices and added capabilities by field and setting; the system realm is exempt', () => {
  const ctx = (doc: unknown) => ({
    doc: validateDocument(doc, 4, { allowSystem: true }).doc as AnyDoc,
    index: 4,
    ref: { kind: 'Cell' as const, path: [] },
  });
  const cases: [unknown, string][] = [
    [cell({}, { privileged: true }), 'spec.containers[1].privileged'],
    [cell({ hostPID: true }), 'spec.containers[0].hostPID'],
    [cell({ devices: ['/dev/fuse'] }), 'spec.containers[0].devices'],
    [cell({ capabilities: { add: ['CHOWN', 'net_admin'] } }), 'spec.containers[0].capabilities.add[1]'],
    [cell({ capabilities: { add: ['ALL'] } }), 'spec.containers[0].capabilities.add[0]'],
    [standalone({ privileged: true }), 'spec.privileged'],
  ];
  for (const [doc, field] of cases) {
    const e = privilegeRefusal(ctx(doc));
    assert.ok(e, field);
    assert.is(e!.code, 'KUKEON_E_FORBIDDEN');
    assert.is(e!.details.field, field);
    assert.is(e!.details.document, 4);
    assert.match(e!.message, `${field} is forbidden on this host`);
    assert.match(e!.message, 'allowPrivileged is false');
  }
  // what stays allowed: dropping, re-adding a default capability, the other security fields
  const fine = cell({
    capabilities: { drop: ['ALL'], add: ['CHOWN', 'NET_RAW'] },
    user: 'nobody',
    readOnlyRootFilesystem: true,
    tmpfs: ['/run'],
    securityOpts: ['seccomp=unconfined'],
  });
  assert.is(privilegeRefusal(ctx(fine)), undefined);
  const system = {
    ...cell({ privileged: true, hostPID: true }),
    spec: { ...cell({ privileged: true, hostPID: true }).spec, realmId: 'kukeon-system' },
  };
  assert.is(privilegeRefusal(ctx(system)), undefined, "the system realm's kukeond is exempt");
});

test.run();
