/** Tables of migration 00xx-datasets, merged into the store's Database interface. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DataTables {}
