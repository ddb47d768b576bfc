import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, sep } from 'node:path';
import { AppError, invalid, notFound } from '../../errors/index.js';
import { newId, nowIso, type MetadataStore } from '../../store/metadata.js';
import type { ConnectionTable } from '../../store/tables/connections.js';
import {
  CONNECTION_KINDS,
  SSL_MODES,
  type ConnectionKind,
  type ConnectionSpec,
  type SslMode,
} from './driver.js';
import { sourceError } from './errors.js';
import { checkDatabaseHost, type HostResolver, type ResolvedAddress } from './hosts.js';
import { mysqlDriver } from './mysql.js';
import { postgresDriver } from './postgres.js';
import type { SecretBox } from './secrets.js';
import { sqliteDriver } from './sqlite.js';
import type { SourceDriver } from './driver.js';

export const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const DRIVERS: Readonly<Record<ConnectionKind, SourceDriver>> = {
  postgres: postgresDriver,
  mysql: mysqlDriver,
  sqlite: sqliteDriver,
};

/** What the API shows of a connection: never the password, only whether there is one. */
export interface Connection {
  readonly id: string;
  readonly name: string;
  readonly kind: ConnectionKind;
  readonly host: string | null;
  readonly port: number | null;
  readonly database: string | null;
  readonly user: string | null;
  readonly path: string | null;
  readonly ssl: { readonly mode: SslMode; readonly hasCa: boolean };
  readonly hasPassword: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ConnectionInput {
  readonly kind?: string | undefined;
  readonly host?: string | null | undefined;
  readonly port?: number | null | undefined;
  readonly database?: string | null | undefined;
  readonly user?: string | null | undefined;
  /** Write-only: stored encrypted. `null` removes it; absent keeps it (on update). */
  readonly password?: string | null | undefined;
  readonly path?: string | null | undefined;
  readonly ssl?: { readonly mode?: string | undefined; readonly ca?: string | undefined } | undefined;
}

const HOST = /^[A-Za-z0-9._:[\]-]{1,253}$/;

export interface ConnectionOptions {
  /**
   * Database hosts on loopback, link-local (cloud metadata) and unspecified addresses allowed
   * (MASS_ALLOW_LOCAL_DATABASES). Off: refused at save, at test and at import time.
   */
  readonly allowLocalHosts?: boolean | undefined;
  /** How host names are resolved (tests replace it); default: the system resolver. */
  readonly resolve?: HostResolver | undefined;
  /** The longest a host name may take to resolve (default 10 s). */
  readonly resolveTimeoutMs?: number | undefined;
}

/**
 * Saved connections of a project. Passwords are encrypted with AES-256-GCM (SecretBox) bound to
 * the connection's id and decrypted only inside `spec()`, which jobs and connection tests call.
 */
export class ConnectionService {
  constructor(
    private readonly store: MetadataStore,
    private readonly secrets: SecretBox,
    private readonly sqliteDirs: readonly string[],
    private readonly options: ConnectionOptions = {},
  ) {}

  async list(projectId: string): Promise<Connection[]> {
    const rows = await this.store.db
      .selectFrom('connections')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('name')
      .execute();
    return rows.map(toConnection);
  }

  async get(projectId: string, name: string): Promise<Connection> {
    return toConnection(await this.row(projectId, name));
  }

  async create(
    projectId: string,
    name: string,
    input: ConnectionInput,
    createdBy: string,
  ): Promise<Connection> {
    if (!CONNECTION_NAME.test(name))
      throw invalid(
        'name',
        'use 1 to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit',
      );
    const id = newId('conn');
    const fields = await this.validate(input, undefined);
    const now = nowIso();
    const row: ConnectionTable = {
      id,
      project_id: projectId,
      name,
      ...fields,
      password_enc:
        input.password === undefined || input.password === null
          ? null
          : this.secrets.encrypt(input.password, id),
      created_by: createdBy,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.store.db.insertInto('connections').values(row).execute();
    } catch (error) {
      const existing = await this.store.db
        .selectFrom('connections')
        .select('id')
        .where('project_id', '=', projectId)
        .where('name', '=', name)
        .executeTakeFirst();
      if (existing)
        throw new AppError('NAME_TAKEN', `a connection named ${JSON.stringify(name)} exists already`);
      throw error;
    }
    return toConnection(row);
  }

  async update(projectId: string, name: string, input: ConnectionInput): Promise<Connection> {
    const current = await this.row(projectId, name);
    if (input.kind !== undefined && input.kind !== current.kind)
      throw invalid('kind', 'the kind of a connection cannot change; create another connection');
    const merged: ConnectionInput = {
      kind: current.kind,
      host: input.host !== undefined ? input.host : current.host,
      port: input.port !== undefined ? input.port : current.port,
      database: input.database !== undefined ? input.database : current.database,
      user: input.user !== undefined ? input.user : current.username,
      path: input.path !== undefined ? input.path : current.path,
      ssl: input.ssl ?? (JSON.parse(current.ssl_json) as ConnectionInput['ssl']),
    };
    const fields = await this.validate(merged, current);
    // Repointing a connection (another host, port, user, database or TLS setting) while keeping the
    // stored password would let anyone who may edit it collect the password on a server of their own.
    if (input.password === undefined && current.password_enc !== null && targetChanged(current, fields))
      throw invalid('password', "send the password again when the connection's target changes");
    const password_enc =
      input.password === undefined
        ? current.password_enc
        : input.password === null
          ? null
          : this.secrets.encrypt(input.password, current.id);
    const updated = { ...fields, password_enc, updated_at: nowIso() };
    await this.store.db
      .updateTable('connections')
      .set(updated)
      .where('id', '=', current.id)
      .where('project_id', '=', projectId)
      .execute();
    return toConnection({ ...current, ...updated });
  }

  async remove(projectId: string, name: string): Promise<void> {
    const r = await this.store.db
      .deleteFrom('connections')
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound('connection', name);
  }

  /** The connection with its password decrypted, for a driver. The SQLite path is re-checked on every use. */
  async spec(projectId: string, name: string): Promise<{ connection: Connection; spec: ConnectionSpec }> {
    const row = await this.row(projectId, name);
    const ssl = JSON.parse(row.ssl_json) as { mode?: SslMode; ca?: string };
    const path = row.kind === 'sqlite' ? await this.allowedSqlitePath(row.path ?? '', 'path') : null;
    // Checked again on every use (DNS may have changed since the save); the driver then connects
    // to the addresses checked here, not to what DNS says a moment later.
    const addresses = row.kind === 'sqlite' ? undefined : await this.checkedAddresses(row.host ?? '');
    return {
      connection: toConnection(row),
      spec: {
        kind: row.kind as ConnectionKind,
        host: row.host,
        port: row.port,
        database: row.database,
        user: row.username,
        password: row.password_enc === null ? null : this.secrets.decrypt(row.password_enc, row.id),
        ssl: { mode: ssl.mode ?? 'disable', ca: ssl.ca },
        path,
        addresses,
      },
    };
  }

  /** The checked addresses of a host to connect to, or undefined when local hosts are allowed. */
  private async checkedAddresses(host: string): Promise<ResolvedAddress[] | undefined> {
    if (this.options.allowLocalHosts) return undefined;
    const addresses = await checkDatabaseHost(host, {
      resolve: this.options.resolve,
      timeoutMs: this.options.resolveTimeoutMs ?? 10_000,
    });
    if (!addresses) throw sourceError('SOURCE_UNREACHABLE', `cannot resolve the host ${host}`);
    return addresses;
  }

  /** Connects and returns the server version, or throws a SOURCE_* error saying why not. */
  async test(
    projectId: string,
    name: string,
    timeoutMs: number,
  ): Promise<{ connection: string; kind: string; version: string; ms: number }> {
    const { connection, spec } = await this.spec(projectId, name);
    const started = Date.now();
    const { version } = await DRIVERS[spec.kind].test(spec, timeoutMs);
    return { connection: connection.name, kind: spec.kind, version, ms: Date.now() - started };
  }

  private async row(projectId: string, name: string): Promise<ConnectionTable> {
    const row = await this.store.db
      .selectFrom('connections')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) throw notFound('connection', name);
    return row;
  }

  private async validate(input: ConnectionInput, current: ConnectionTable | undefined) {
    const kind = input.kind ?? current?.kind;
    if (!kind || !(CONNECTION_KINDS as readonly string[]).includes(kind))
      throw invalid('kind', `must be one of ${CONNECTION_KINDS.join(', ')}`);
    const sslMode = input.ssl?.mode ?? 'disable';
    if (!(SSL_MODES as readonly string[]).includes(sslMode))
      throw invalid('ssl/mode', `must be one of ${SSL_MODES.join(', ')}`);
    const ca = input.ssl?.ca;
    if (
      ca !== undefined &&
      (typeof ca !== 'string' || !ca.includes('-----BEGIN CERTIFICATE-----') || ca.length > 65_536)
    )
      throw invalid('ssl/ca', 'must be PEM certificates (-----BEGIN CERTIFICATE-----), at most 64 KiB');
    if (kind === 'sqlite') {
      for (const field of ['host', 'port', 'database', 'user', 'password'] as const)
        if (input[field] !== undefined && input[field] !== null)
          throw invalid(field, 'a SQLite connection has only a path');
      if (typeof input.path !== 'string' || input.path === '') throw invalid('path', 'name the SQLite file');
      await this.allowedSqlitePath(input.path, 'path');
      return {
        kind,
        host: null,
        port: null,
        database: null,
        username: null,
        path: input.path,
        ssl_json: '{"mode":"disable"}',
      };
    }
    if (input.path !== undefined && input.path !== null)
      throw invalid('path', `a ${kind} connection has no path`);
    const host = input.host ?? '';
    if (!HOST.test(host)) throw invalid('host', 'give a host name or an IP address');
    // A name that does not resolve from here may still be saved (it may resolve from the workers);
    // it is checked again, and must resolve, when the connection is tested or used.
    if (!this.options.allowLocalHosts)
      await checkDatabaseHost(host, {
        resolve: this.options.resolve,
        timeoutMs: Math.min(this.options.resolveTimeoutMs ?? 10_000, 5_000),
      });
    const port = input.port ?? (kind === 'postgres' ? 5432 : 3306);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw invalid('port', 'must be a whole number from 1 to 65535');
    const database = input.database ?? null;
    if (database !== null && (database.length > 128 || database.includes('\0')))
      throw invalid('database', 'at most 128 characters');
    const user = input.user ?? null;
    if (user === null || user === '' || user.length > 128 || user.includes('\0'))
      throw invalid('user', 'give the user name (at most 128 characters)');
    if (typeof input.password === 'string' && (input.password.length > 1024 || input.password.includes('\0')))
      throw invalid('password', 'at most 1024 characters');
    return {
      kind,
      host,
      port,
      database,
      username: user,
      path: null,
      ssl_json: JSON.stringify({ mode: sslMode, ...(ca ? { ca } : {}) }),
    };
  }

  /**
   * The real path of a SQLite file inside one of the allowed folders (MASS_SQLITE_SOURCE_DIRS).
   * Symbolic links are resolved first, so a link cannot lead out of the folders.
   */
  async allowedSqlitePath(path: string, field: string): Promise<string> {
    if (!isAbsolute(path) || path.includes('\0'))
      throw invalid(field, 'give the absolute path of the SQLite file');
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      throw invalid(
        field,
        'no such file in the folders SQLite connections may read (MASS_SQLITE_SOURCE_DIRS)',
      );
    }
    const roots = await Promise.all(this.sqliteDirs.map((d) => realpath(d).catch(() => undefined)));
    if (!roots.some((root) => root !== undefined && real.startsWith(root.endsWith(sep) ? root : root + sep)))
      throw invalid(
        field,
        'no such file in the folders SQLite connections may read (MASS_SQLITE_SOURCE_DIRS)',
      );
    if (!(await stat(real)).isFile()) throw invalid(field, 'not a file');
    return real;
  }
}

/** Whether the fields that decide where the password goes differ from the stored row. */
function targetChanged(
  current: ConnectionTable,
  next: Pick<ConnectionTable, 'kind' | 'host' | 'port' | 'database' | 'username' | 'ssl_json'>,
): boolean {
  const norm = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return (
    current.kind !== next.kind ||
    norm(current.host) !== norm(next.host) ||
    norm(current.port) !== norm(next.port) ||
    norm(current.database) !== norm(next.database) ||
    norm(current.username) !== norm(next.username) ||
    current.ssl_json !== next.ssl_json
  );
}

function toConnection(r: ConnectionTable): Connection {
  const ssl = JSON.parse(r.ssl_json) as { mode?: SslMode; ca?: string };
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as ConnectionKind,
    host: r.host,
    port: r.port === null ? null : Number(r.port),
    database: r.database,
    user: r.username,
    path: r.path,
    ssl: { mode: ssl.mode ?? 'disable', hasCa: ssl.ca !== undefined },
    hasPassword: r.password_enc !== null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
