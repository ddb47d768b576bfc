import { createHash, randomBytes } from 'node:crypto';
import { AppError, invalid, notFound } from '../errors/index.js';
import { newId, nowIso, type MetadataStore } from '../store/metadata.js';
import { isRole, roleAllows, type Action, type Role } from './permissions.js';

/** Who is calling, as established from a verified key. Never taken from a header or body field. */
export interface Principal {
  readonly userId: string;
  readonly keyId: string;
  /** Site admin: every project, every action. */
  readonly isAdmin: boolean;
  /** The one project a non-admin key is scoped to. */
  readonly projectId: string | null;
  readonly role: Role | null;
}

export interface Project {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly createdAt: string;
}

export interface ApiKeyInfo {
  readonly id: string;
  readonly prefix: string;
  readonly name: string;
  readonly projectId: string | null;
  readonly role: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

const KEY_PATTERN = /^mass_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$/;
export const PROJECT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CACHE_MS = 5_000;
const LAST_USED_EVERY_MS = 60_000;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function randomAlnum(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(n);
  let out = '';
  // 62 does not divide 256, so skip bytes ≥ 248 to keep every character equally likely.
  for (let i = 0; out.length < n; i++) {
    const b = i < bytes.length ? bytes[i]! : randomBytes(1)[0]!;
    if (b < 248) out += alphabet[b % 62];
  }
  return out;
}

interface CachedKey {
  readonly principal: Principal;
  readonly expiresAt: number | null;
  readonly cachedAt: number;
}

/**
 * Users, projects and API keys. Keys are `mass_<prefix>_<secret>`: the prefix is stored to
 * recognise a key in lists, only the SHA-256 of the whole key is stored, and a verified key is
 * cached in memory for a few seconds so that the prediction path does not touch the database.
 */
export class AuthService {
  private readonly cache = new Map<string, CachedKey>();
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(private readonly store: MetadataStore) {}

  /** On first start: creates the admin user and returns its first key, to be shown once. */
  async bootstrap(): Promise<{ adminKey: string } | undefined> {
    const existing = await this.store.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (existing) return undefined;
    const userId = newId('usr');
    const now = nowIso();
    await this.store.db
      .insertInto('users')
      .values({ id: userId, name: 'admin', is_admin: 1, created_at: now })
      .execute();
    const { key } = await this.createKeyRow(userId, null, 'owner', 'bootstrap admin key', null);
    return { adminKey: key };
  }

  /** Verifies an `Authorization` header value. Throws 401 for anything but a live key. */
  async authenticate(header: string | undefined): Promise<Principal> {
    if (!header) throw new AppError('UNAUTHENTICATED', 'send an API key as "Authorization: Bearer mass_..."');
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    const key = match?.[1];
    if (!key || !KEY_PATTERN.test(key)) throw new AppError('UNAUTHENTICATED', 'the API key is malformed');
    const hash = sha256(key);
    const now = Date.now();
    let entry = this.cache.get(hash);
    if (!entry || now - entry.cachedAt > CACHE_MS) {
      entry = await this.loadKey(hash, now);
      this.cache.set(hash, entry);
    }
    if (entry.expiresAt !== null && entry.expiresAt <= now) {
      throw new AppError('UNAUTHENTICATED', 'the API key has expired');
    }
    this.touch(entry.principal.keyId, now);
    return entry.principal;
  }

  private async loadKey(hash: string, now: number): Promise<CachedKey> {
    const row = await this.store.db
      .selectFrom('api_keys')
      .innerJoin('users', 'users.id', 'api_keys.user_id')
      .select([
        'api_keys.id',
        'api_keys.user_id',
        'api_keys.project_id',
        'api_keys.role',
        'api_keys.expires_at',
        'api_keys.revoked_at',
        'users.is_admin',
      ])
      .where('api_keys.hash', '=', hash)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) throw new AppError('UNAUTHENTICATED', 'the API key is not valid');
    const isAdmin = row.is_admin === 1 && row.project_id === null;
    return {
      principal: {
        userId: row.user_id,
        keyId: row.id,
        isAdmin,
        projectId: row.project_id,
        role: isRole(row.role) ? row.role : null,
      },
      expiresAt: row.expires_at ? Date.parse(row.expires_at) : null,
      cachedAt: now,
    };
  }

  /** Records last use at most once a minute per key, off the request's path. */
  private touch(keyId: string, now: number): void {
    const last = this.lastUsedWritten.get(keyId) ?? 0;
    if (now - last < LAST_USED_EVERY_MS) return;
    this.lastUsedWritten.set(keyId, now);
    void this.store.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date(now).toISOString() })
      .where('id', '=', keyId)
      .execute()
      .catch(() => undefined);
  }

  /**
   * Resolves a project by name for a caller and checks the action. A project the caller's key
   * is not scoped to reads as "not found", exactly like one that does not exist.
   */
  async authorizeProject(principal: Principal, projectName: string, action: Action): Promise<Project> {
    const project = await this.findProject(projectName);
    if (!project || (!principal.isAdmin && principal.projectId !== project.id))
      throw notFound('project', projectName);
    this.authorize(principal, action);
    return project;
  }

  /** Role check alone (the scope was checked by the caller). */
  authorize(principal: Principal, action: Action): void {
    if (principal.isAdmin) return;
    if (!principal.role || !roleAllows(principal.role, action)) {
      throw new AppError(
        'FORBIDDEN',
        `the key's role (${principal.role ?? 'none'}) does not allow ${action}`,
      );
    }
  }

  requireAdmin(principal: Principal): void {
    if (!principal.isAdmin) throw new AppError('FORBIDDEN', 'only a site admin may do this');
  }

  async findProject(name: string): Promise<Project | undefined> {
    const row = await this.store.db
      .selectFrom('projects')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && { id: row.id, name: row.name, description: row.description, createdAt: row.created_at };
  }

  async createProject(principal: Principal, name: string, description = ''): Promise<Project> {
    this.requireAdmin(principal);
    if (!PROJECT_NAME.test(name)) {
      throw invalid(
        'name',
        'use 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit',
      );
    }
    const project = { id: newId('prj'), name, description, createdAt: nowIso() };
    try {
      await this.store.db
        .insertInto('projects')
        .values({ id: project.id, name, description, created_at: project.createdAt })
        .execute();
    } catch (error) {
      if (this.store.dialect.isUniqueViolation(error))
        throw new AppError('NAME_TAKEN', `project ${JSON.stringify(name)} already exists`);
      throw error;
    }
    return project;
  }

  async listProjects(principal: Principal): Promise<Project[]> {
    let query = this.store.db.selectFrom('projects').selectAll().orderBy('name');
    if (!principal.isAdmin) query = query.where('id', '=', principal.projectId ?? '');
    const rows = await query.execute();
    return rows.map((r) => ({ id: r.id, name: r.name, description: r.description, createdAt: r.created_at }));
  }

  /** Creates a key scoped to one project with a role (owners may do this for their own project). */
  async createKey(
    principal: Principal,
    input: { projectName?: string | undefined; role: string; name: string; expiresAt?: string | undefined },
  ): Promise<{ key: string; info: ApiKeyInfo }> {
    if (!isRole(input.role))
      throw invalid('role', `must be one of owner, maintainer, annotator, viewer, invoker`);
    let projectId: string | null = null;
    if (input.projectName === undefined) {
      this.requireAdmin(principal);
    } else {
      projectId = (await this.authorizeProject(principal, input.projectName, 'key:manage')).id;
    }
    let expiresAt: string | null = null;
    if (input.expiresAt !== undefined) {
      const t = Date.parse(input.expiresAt);
      if (Number.isNaN(t)) throw invalid('expiresAt', 'must be an ISO-8601 date and time');
      if (t <= Date.now()) throw invalid('expiresAt', 'must be in the future');
      expiresAt = new Date(t).toISOString();
    }
    return this.createKeyRow(principal.userId, projectId, input.role, input.name, expiresAt);
  }

  private async createKeyRow(
    userId: string,
    projectId: string | null,
    role: Role,
    name: string,
    expiresAt: string | null,
  ): Promise<{ key: string; info: ApiKeyInfo }> {
    const prefix = randomAlnum(8);
    const key = `mass_${prefix}_${randomBytes(32).toString('base64url')}`;
    const info: ApiKeyInfo = {
      id: newId('key'),
      prefix: `mass_${prefix}`,
      name,
      projectId,
      role,
      createdAt: nowIso(),
      expiresAt,
      revokedAt: null,
      lastUsedAt: null,
    };
    await this.store.db
      .insertInto('api_keys')
      .values({
        id: info.id,
        prefix: info.prefix,
        hash: sha256(key),
        name,
        user_id: userId,
        project_id: projectId,
        role,
        created_at: info.createdAt,
        expires_at: expiresAt,
        revoked_at: null,
        last_used_at: null,
      })
      .execute();
    return { key, info };
  }

  async listKeys(principal: Principal, projectName?: string): Promise<ApiKeyInfo[]> {
    let query = this.store.db.selectFrom('api_keys').selectAll().orderBy('created_at');
    if (projectName !== undefined) {
      const project = await this.authorizeProject(principal, projectName, 'key:manage');
      query = query.where('project_id', '=', project.id);
    } else {
      this.requireAdmin(principal);
    }
    const rows = await query.execute();
    return rows.map((r) => ({
      id: r.id,
      prefix: r.prefix,
      name: r.name,
      projectId: r.project_id,
      role: r.role,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      revokedAt: r.revoked_at,
      lastUsedAt: r.last_used_at,
    }));
  }

  async revokeKey(principal: Principal, keyId: string): Promise<void> {
    const row = await this.store.db
      .selectFrom('api_keys')
      .select(['id', 'project_id', 'hash'])
      .where('id', '=', keyId)
      .executeTakeFirst();
    const allowed =
      row &&
      (principal.isAdmin ||
        (row.project_id !== null && row.project_id === principal.projectId && principal.role === 'owner'));
    if (!row || !allowed) throw notFound('key', keyId);
    await this.store.db
      .updateTable('api_keys')
      .set({ revoked_at: nowIso() })
      .where('id', '=', keyId)
      .execute();
    this.cache.delete(row.hash);
  }
}
