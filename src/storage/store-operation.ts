/** The operations of an ObjectStore, as named in retry events and fault rules. */
export const STORE_OPERATIONS = ['create', 'put', 'get', 'stat', 'list', 'delete'] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];
