/** Tables of migration 0005-connections, merged into the store's Database interface. */
export interface ConnectionTables {
  connections: ConnectionTable;
}

/** A saved database connection. The password is only ever stored encrypted (see data/sources/secrets.ts). */
export interface ConnectionTable {
  id: string;
  project_id: string;
  name: string;
  /** 'postgres' | 'mysql' | 'sqlite' */
  kind: string;
  host: string | null;
  port: number | null;
  database: string | null;
  username: string | null;
  /** sqlite: the file, checked against the allowed folders on every use. */
  path: string | null;
  /** `{ mode: 'disable' | 'require' | 'verify', ca?: string }` */
  ssl_json: string;
  /** `v1.<iv>.<tag>.<ciphertext>` (base64url), AES-256-GCM bound to the connection id; null: no password. */
  password_enc: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}
