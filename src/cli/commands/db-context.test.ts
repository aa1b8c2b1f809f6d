import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigFile } from './db-context.js';

void describe('parseConfigFile', () => {
  void it('reads NAME=VALUE lines with quotes, export and comments', () => {
    const vars = parseConfigFile(
      '# repo\nexport HOLDFAST_REPOSITORY=/srv/repo\nHOLDFAST_PASSWORD_FILE="/etc/holdfast/pw file"\n\nPGHOST=\'/run/pg\'\n',
      'f',
    );
    assert.deepEqual(vars, {
      HOLDFAST_REPOSITORY: '/srv/repo',
      HOLDFAST_PASSWORD_FILE: '/etc/holdfast/pw file',
      PGHOST: '/run/pg',
    });
  });

  void it('rejects other variables and malformed lines without echoing values', () => {
    assert.throws(
      () => parseConfigFile('PATH=/tmp/evil\n', 'f'),
      /f:1: PATH is not a HOLDFAST_\* or PG\* variable/,
    );
    assert.throws(
      () => parseConfigFile('HOLDFAST_PASSWORD secret\n', 'f'),
      (err: Error) => !err.message.includes('secret'),
    );
  });
});
