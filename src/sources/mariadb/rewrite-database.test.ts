import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rewriteDatabase, rewriteLine } from './rewrite-database.js';

async function* pieces(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  await Promise.resolve();
}

async function rewrite(text: string, size: number, name: string): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of rewriteDatabase(pieces(text, size), name)) out.push(c);
  return Buffer.concat(out).toString();
}

const DUMP = [
  '-- MariaDB dump 10.19',
  '--',
  '-- Current Database: `shop`',
  '--',
  '',
  'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;',
  '',
  'USE `shop`;',
  `INSERT INTO \`t\` VALUES ${"(1,'USE `shop`;'),".repeat(20000)}(2,'x');`,
  'ALTER DATABASE `shop` CHARACTER SET latin1 COLLATE latin1_swedish_ci ;',
  'USERS_TABLE_NOT_A_STATEMENT',
  '',
].join('\n');

void describe('rewriteDatabase', () => {
  void it('drops CREATE DATABASE and points USE and ALTER DATABASE at the new name, whatever the chunking', async () => {
    const expected = DUMP.replace(/^CREATE DATABASE .*\n/m, '')
      .replace(/^USE `shop`;$/m, 'USE `copy``1`;')
      .replace(/^ALTER DATABASE `shop`/m, 'ALTER DATABASE `copy``1`');
    for (const size of [1, 7, 100, 4096, 1 << 20])
      assert.equal(await rewrite(DUMP, size, 'copy`1'), expected, `size ${size}`);
  });

  void it('leaves other lines alone', () => {
    assert.equal(rewriteLine('INSERT INTO x VALUES (1);\n', 'n'), 'INSERT INTO x VALUES (1);\n');
    assert.equal(rewriteLine('USE `a`;\n', 'b'), 'USE `b`;\n');
  });
});
