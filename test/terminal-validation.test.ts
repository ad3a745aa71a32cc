// The terminal fields of a manifest: `attachable` and `tty` on a container, `tty.default` on a cell. What upstream's
// kuketty terminal server reads stays refused by name; every other mistake names its field.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateDocument } from '../src/host/validation/validate-document';
import type { CellDoc, ContainerDoc, KukeonError } from '../sdk';

function refused(raw: unknown, code: string, field: string, message?: RegExp): void {
  try {
    validateDocument(raw, 2);
  } catch (err) {
    const e = err as KukeonError;
    assert.is(e.code, code, e.message);
    assert.is(e.details.field, field, e.message);
    assert.is(e.details.document, 2);
    if (message) assert.match(e.message, message);
    return;
  }
  assert.unreachable(`expected ${code} on ${field}`);
}

const cell = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  kind: 'Cell',
  metadata: { name: 'dev' },
  spec: { realmId: 'main', spaceId: 'blog', stackId: 'wp', containers, ...extra },
});

test('attachable and an empty tty are accepted and kept; tty.default names an attachable container', () => {
  const v = validateDocument(
    cell(
      [
        { id: 'sh', image: 'busybox', attachable: true, tty: {} },
        { id: 'web', image: 'nginx' },
      ],
      { tty: { default: 'sh' } },
    ),
    1,
  ).doc as CellDoc;
  assert.is(v.spec.containers[0].attachable, true);
  assert.equal(v.spec.containers[0].tty, {});
  assert.equal(v.spec.tty, { default: 'sh' });
  const c = validateDocument(
    {
      kind: 'Container',
      metadata: { name: 'sh' },
      spec: { realmId: 'r', spaceId: 's', stackId: 't', cellId: 'c', image: 'x', attachable: true },
    },
    1,
  ).doc as ContainerDoc;
  assert.is(c.spec.attachable, true);
});

test("upstream's kuketty settings stay refused as unsupported, each by its field", () => {
  for (const field of ['prompt', 'onInit', 'logFile', 'logLevel'])
    refused(
      cell([{ id: 'sh', image: 'busybox', attachable: true, tty: { [field]: field === 'onInit' ? [] : 'x' } }]),
      'KUKEON_E_UNSUPPORTED_FIELD',
      `spec.containers[0].tty.${field}`,
      /kuketty/,
    );
  refused(
    {
      kind: 'Container',
      metadata: { name: 'sh' },
      spec: { realmId: 'r', spaceId: 's', stackId: 't', cellId: 'c', image: 'x', attachable: true, tty: { prompt: '$ ' } },
    },
    'KUKEON_E_UNSUPPORTED_FIELD',
    'spec.tty.prompt',
  );
});

test('bad terminal fields are invalid, by field', () => {
  refused(cell([{ id: 'sh', image: 'busybox', attachable: 'yes' }]), 'KUKEON_E_INVALID', 'spec.containers[0].attachable');
  refused(
    cell([{ id: 'sh', image: 'busybox', attachable: true, tty: { colour: 1 } }]),
    'KUKEON_E_INVALID',
    'spec.containers[0].tty.colour',
  );
  refused(cell([{ id: 'sh', image: 'busybox', attachable: true, tty: 'on' }]), 'KUKEON_E_INVALID', 'spec.containers[0].tty');
  refused(cell([{ id: 'sh', image: 'busybox', tty: {} }]), 'KUKEON_E_INVALID', 'spec.containers[0].tty', /requires attachable/);
  refused(
    cell([{ id: 'sh', image: 'busybox', attachable: true }], { tty: { default: 'web' } }),
    'KUKEON_E_INVALID',
    'spec.tty.default',
    /not a container of this cell/,
  );
  refused(
    cell(
      [
        { id: 'sh', image: 'busybox', attachable: true },
        { id: 'web', image: 'nginx' },
      ],
      { tty: { default: 'web' } },
    ),
    'KUKEON_E_INVALID',
    'spec.tty.default',
    /not attachable \(attachable: sh\)/,
  );
  refused(
    cell([{ id: 'sh', image: 'busybox' }], { tty: { default: 'sh' } }),
    'KUKEON_E_INVALID',
    'spec.tty.default',
    /no container of the cell is attachable/,
  );
  refused(cell([{ id: 'sh', image: 'busybox', attachable: true }], { tty: { other: 1 } }), 'KUKEON_E_INVALID', 'spec.tty.other');
});

test('the root container cannot be attachable (declared root, rootContainerId, or a standalone root Container)', () => {
  refused(cell([{ id: 'r', image: 'busybox', root: true, attachable: true }]), 'KUKEON_E_INVALID', 'spec.containers[0].attachable', /root/);
  refused(
    cell(
      [
        { id: 'a', image: 'busybox' },
        { id: 'b', image: 'busybox', attachable: true },
      ],
      { rootContainerId: 'b' },
    ),
    'KUKEON_E_INVALID',
    'spec.containers[1].attachable',
  );
  refused(
    {
      kind: 'Container',
      metadata: { name: 'r' },
      spec: { realmId: 'r', spaceId: 's', stackId: 't', cellId: 'c', image: 'x', root: true, attachable: true },
    },
    'KUKEON_E_INVALID',
    'spec.attachable',
  );
});

test.run();
