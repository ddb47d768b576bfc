import { fileURLToPath } from 'node:url';
import type { MetadataStore } from './metadata.js';
import { openPostgresStore } from './postgres/index.js';
import { openSqliteStore } from './sqlite/index.js';

/** Picks the metadata store by the URL's scheme: `sqlite:<path>` or `postgres://...`. */
export function openMetadataStore(url: string): MetadataStore {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgresStore(url);
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    return openSqliteStore(rest.startsWith('//') ? fileURLToPath(`file:${rest}`) : rest);
  }
  throw new Error(`unsupported database URL scheme: ${url.split(':')[0]}`);
}
