import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHoldfastError } from '../core/index.js';
import { Credentials, credentialsLine } from './credentials.js';

const cheap = { ln: 10, r: 8, p: 1 };

void describe('Credentials', () => {
  void it('verifies lines written by credentialsLine, and nothing else', async () => {
    const text = [
      '# comment',
      await credentialsLine('alice', 'alice pw: with colon', cheap),
      '',
      await credentialsLine('bob', 'bob pw', cheap),
    ].join('\n');
    const c = Credentials.parse(text, 'test file');
    assert.equal(c.size, 2);
    assert.equal(await c.verify('alice', 'alice pw: with colon'), true);
    assert.equal(await c.verify('alice', 'alice pw: with colon'), true, 'cached');
    assert.equal(await c.verify('alice', 'bob pw'), false);
    assert.equal(await c.verify('bob', 'bob pw'), true);
    assert.equal(await c.verify('carol', 'bob pw'), false);
    assert.equal(await c.verify('', ''), false);
  });

  void it('salts: the same password gives different lines', async () => {
    assert.notEqual(
      await credentialsLine('a', 'pw', cheap),
      await credentialsLine('a', 'pw', cheap),
    );
  });

  void it('rejects malformed files, absurd costs and duplicate users, naming the line', async () => {
    const good = await credentialsLine('alice', 'pw', cheap);
    for (const text of [
      'alice:plaintext',
      good.replace('ln=10', 'ln=30'),
      good.replace(/\$[^$]+$/, '$AAAA'),
      `${good}\n${good}`,
    ]) {
      assert.throws(
        () => Credentials.parse(text, 'f'),
        (e) => isHoldfastError(e, 'CONFIG_INVALID') && /^f line \d/.test(e.message),
      );
    }
    await assert.rejects(credentialsLine('a:b', 'pw'), (e) => isHoldfastError(e, 'USAGE'));
    await assert.rejects(credentialsLine('a', ''), (e) => isHoldfastError(e, 'USAGE'));
  });
});
