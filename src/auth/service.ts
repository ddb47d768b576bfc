import { createHash, randomBytes } from 'node:crypto';
import { AppError, invalid, notFound } from '../errors/index.js';
import { newId, nowIso, type MetadataStore } from '../store/metadata.js';
import { isRole, roleAllows, type Action, type Role } from './permissions.js';

/** Who is calling, as established from a verified key. Never taken from a header or body field. */
export interface Principal {
  readonly userId: string;
  /** The key that authenticated the request, or null for a console session. */
  readonly keyId: string | null;
  /** The console session, or null for a key. */
  readonly sessionId: string | null;
  /** Site admin: every project, every action. */
  readonly isAdmin: boolean;
  /** The one project a non-admin key is scoped to (null for sessions: their projects are their memberships). */
  readonly projectId: string | null;
  /** The key's role in its project (sessions take the role of their membership in each project). */
  readonly role: Role | null;
  /** Predictions per second allowed to this key; null: the server default. */
  readonly rateLimitRps?: number | null;
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
  private readonly members = new Map<string, { role: Role | null; at: number }>();

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
    this.touch(entry.principal.keyId!, now);
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
        'api_keys.rate_limit_rps',
        'users.is_admin',
        'users.disabled_at',
      ])
      .where('api_keys.hash', '=', hash)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null || row.disabled_at !== null)
      throw new AppError('UNAUTHENTICATED', 'the API key is not valid');
    const isAdmin = row.is_admin === 1 && row.project_id === null;
    return {
      principal: {
        userId: row.user_id,
        keyId: row.id,
        sessionId: null,
        isAdmin,
        projectId: row.project_id,
        role: isRole(row.role) ? row.role : null,
        rateLimitRps: row.rate_limit_rps === null ? null : Number(row.rate_limit_rps),
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
    if (!project) throw notFound('project', projectName);
    if (principal.isAdmin) return project;
    const role =
      principal.sessionId !== null
        ? await this.memberRole(project.id, principal.userId)
        : principal.projectId === project.id
          ? principal.role
          : null;
    if (role === null) throw notFound('project', projectName);
    this.authorize({ ...principal, role }, action);
    return project;
  }

  /** Role check alone (the scope was checked by the caller). */
  authorize(principal: Principal, action: Action): void {
    if (principal.isAdmin) return;
    if (!principal.role || !roleAllows(principal.role, action)) {
      throw new AppError('FORBIDDEN', `the role ${principal.role ?? '(none)'} does not allow ${action}`);
    }
  }

  /** The user's role in a project through its membership, cached briefly like keys. */
  private async memberRole(projectId: string, userId: string): Promise<Role | null> {
    const cacheKey = `${projectId}/${userId}`;
    const hit = this.members.get(cacheKey);
    const now = Date.now();
    if (hit && now - hit.at < CACHE_MS) return hit.role;
    const row = await this.store.db
      .selectFrom('project_members')
      .select('role')
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    const role = row && isRole(row.role) ? row.role : null;
    this.members.set(cacheKey, { role, at: now });
    return role;
  }

  /** Forgets cached keys and memberships (after a change to them). */
  invalidate(): void {
    this.members.clear();
    this.cache.clear();
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
    if (!principal.isAdmin && principal.sessionId !== null) {
      const userId = principal.userId;
      query = query.where('id', 'in', (eb) =>
        eb.selectFrom('project_members').select('project_id').where('user_id', '=', userId),
      );
    } else if (!principal.isAdmin) {
      query = query.where('id', '=', principal.projectId ?? '');
    }
    const rows = await query.execute();
    return rows.map((r) => ({ id: r.id, name: r.name, description: r.description, createdAt: r.created_at }));
  }

  /** Creates a key scoped to one project with a role (owners may do this for their own project). */
  async createKey(
    principal: Principal,
    input: {
      projectName?: string | undefined;
      role: string;
      name: string;
      expiresAt?: string | undefined;
      /** Another user or service account to own the key (site admin only). */
      userName?: string | undefined;
      rateLimitRps?: number | undefined;
    },
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
    let owner = principal.userId;
    if (input.userName !== undefined) {
      this.requireAdmin(principal);
      const user = await this.store.db
        .selectFrom('users')
        .select(['id', 'disabled_at'])
        .where('name', '=', input.userName)
        .executeTakeFirst();
      if (!user || user.disabled_at !== null) throw notFound('user', input.userName);
      owner = user.id;
    }
    if (
      input.rateLimitRps !== undefined &&
      !(input.rateLimitRps > 0 && Number.isFinite(input.rateLimitRps))
    ) {
      throw invalid('rateLimitRps', 'must be a positive number');
    }
    return this.createKeyRow(owner, projectId, input.role, input.name, expiresAt, input.rateLimitRps ?? null);
  }

  private async createKeyRow(
    userId: string,
    projectId: string | null,
    role: Role,
    name: string,
    expiresAt: string | null,
    rateLimitRps: number | null = null,
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
        rate_limit_rps: rateLimitRps,
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
