/** Objects for store tests: content-addressed as the engine names its objects. */
import { createHash } from 'node:crypto';
import { seededBytes } from './seeded-random.js';

/** A content-addressed test object, as the engine would make one. */
export interface TestObject {
  readonly name: string;
  readonly data: Buffer;
}

export function testObject(seed: number, size = 1000): TestObject {
  const data = seededBytes(seed, size);
  return { name: createHash('sha256').update(data).digest('hex'), data };
}
