import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AccountNames, parseAccountFile } from './account-names.js';

void describe('AccountNames', () => {
  void it('parses passwd/group lines; the first line for an id wins', () => {
    const text = [
      'root:x:0:0:root:/root:/bin/bash',
      '# comment',
      '',
      'toor:x:0:0:alias:/root:/bin/sh',
      'broken line',
      'nonnum:x:abc:1::/:',
      'app:x:1000:1000::/home/app:/bin/sh',
    ].join('\n');
    assert.deepEqual(
      [...parseAccountFile(text)],
      [
        [0, 'root'],
        [1000, 'app'],
      ],
    );
  });

  void it('reads each file once and answers undefined for unknown ids or missing files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-accounts-'));
    try {
      const passwd = join(dir, 'passwd');
      await writeFile(passwd, 'alice:x:1001:1001::/home/alice:/bin/sh\n');
      const names = new AccountNames({ passwd, group: join(dir, 'missing-group') });
      assert.equal(await names.userName(1001), 'alice');
      await writeFile(passwd, 'bob:x:1001:1001::/home/bob:/bin/sh\n');
      assert.equal(await names.userName(1001), 'alice', 'cached for the life of the object');
      assert.equal(await names.userName(4242), undefined);
      assert.equal(await names.groupName(1001), undefined);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
