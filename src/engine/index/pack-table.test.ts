import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { PackId } from '../../core/index.js';
import { PackTable } from './pack-table.js';

const packId = (): PackId => randomBytes(32).toString('hex') as PackId;

void describe('PackTable', () => {
  void it('numbers packs in order of arrival and finds them again across growth', () => {
    const table = new PackTable();
    const ids = Array.from({ length: 5000 }, packId);
    ids.forEach((id, n) => assert.equal(table.number(id), n));
    assert.equal(table.size, ids.length);
    ids.forEach((id, n) => {
      assert.equal(table.number(id), n, 'an existing pack keeps its number');
      assert.ok(table.has(id));
      assert.equal(table.idAt(n), id);
    });
    assert.deepEqual(table.all(), ids);
    assert.equal(table.has(packId()), false);
    assert.equal(table.size, ids.length);
  });

  void it('tells apart ids that share their first bytes (the slot hash)', () => {
    const table = new PackTable();
    const a = ('00000000' + 'a'.repeat(56)) as PackId;
    const b = ('00000000' + 'b'.repeat(56)) as PackId;
    assert.equal(table.number(a), 0);
    assert.equal(table.number(b), 1);
    assert.equal(table.idAt(1), b);
    assert.ok(table.memoryBytes() < 200 * 1024);
  });
});
