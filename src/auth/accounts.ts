import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError, invalid, notFound } from '../errors/index.js';
import { newId, nowIso, type MetadataStore } from '../store/metadata.js';
import { hashPassword, PASSWORD_MAX, PASSWORD_MIN, verifyPassword } from './passwords.js';
import { isRole } from './permissions.js';
import type { AuthService, Principal } from './service.js';

export interface User {
  readonly id: string;
  readonly name: string;
  readonly kind: 'user' | 'service';
  readonly isAdmin: boolean;
  readonly createdAt: string;
  readonly disabledAt: string | null;
}

export interface Member {
  readonly user: string;
  readonly role: string;
  readonly createdAt: string;
}

export interface SessionInfo {
  readonly user: User;
  readonly csrfToken: string;
  readonly expiresAt: string;
}

export const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const SESSION_COOKIE = 'mass_session';
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const CACHE_MS = 5_000;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * People and service accounts, their memberships in projects, and console sessions. A session
 * token lives only in an HttpOnly cookie (its SHA-256 is stored); every cookie-authenticated
 * write must also carry the session's CSRF token in a header.
 */
export class Accounts {
  private readonly sessions = new Map<
    string,
    { principal: Principal; csrfHash: string; expiresAt: number; at: number }
  >();

  constructor(
    private readonly store: MetadataStore,
    private readonly auth: AuthService,
    private readonly sessionHours: number,
  ) {}

  async createUser(
    principal: Principal,
    input: {
      name: string;
      password?: string | undefined;
      kind?: 'user' | 'service' | undefined;
      isAdmin?: boolean | undefined;
    },
  ): Promise<User> {
    this.auth.requireAdmin(principal);
    if (!USER_NAME.test(input.name))
      throw invalid('name', 'use 1 to 63 lowercase letters, digits, dots, dashes and underscores');
    const kind = input.kind ?? 'user';
    if (kind === 'service' && input.password !== undefined)
      throw invalid('password', 'a service account has no password: give it keys');
    if (kind === 'user' && input.password === undefined) throw invalid('password', 'a user needs a password');
    if (input.password !== undefined) checkPassword(input.password);
    const row = {
      id: newId('usr'),
      name: input.name,
      is_admin: input.isAdmin ? 1 : 0,
      created_at: nowIso(),
      kind,
      password_hash: input.password === undefined ? null : await hashPassword(input.password),
      disabled_at: null,
    };
    try {
      await this.store.db.insertInto('users').values(row).execute();
    } catch (error) {
      if (this.store.dialect.isUniqueViolation(error))
        throw new AppError('NAME_TAKEN', `user ${JSON.stringify(input.name)} already exists`);
      throw error;
    }
    return toUser(row);
  }

  async listUsers(principal: Principal): Promise<User[]> {
    this.auth.requireAdmin(principal);
    return (await this.store.db.selectFrom('users').selectAll().orderBy('name').execute()).map(toUser);
  }

  /** Disables a user: their sessions end and their keys stop working at once. */
  async disableUser(principal: Principal, name: string): Promise<void> {
    this.auth.requireAdmin(principal);
    const user = await this.store.db
      .selectFrom('users')
      .select(['id'])
      .where('name', '=', name)
      .executeTakeFirst();
    if (!user) throw notFound('user', name);
    if (user.id === principal.userId) throw new AppError('STATE_CONFLICT', 'you cannot disable yourself');
    const now = nowIso();
    await this.store.db.updateTable('users').set({ disabled_at: now }).where('id', '=', user.id).execute();
    await this.store.db
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .execute();
    this.sessions.clear();
    this.auth.invalidate();
  }

  async setMember(
    principal: Principal,
    projectName: string,
    userName: string,
    role: string,
  ): Promise<Member> {
    const project = await this.auth.authorizeProject(principal, projectName, 'key:manage');
    if (!isRole(role)) throw invalid('role', 'must be one of owner, maintainer, annotator, viewer, invoker');
    const user = await this.store.db
      .selectFrom('users')
      .select(['id'])
      .where('name', '=', userName)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    if (!user) throw notFound('user', userName);
    const createdAt = nowIso();
    await this.store.transaction(async (trx) => {
      await trx
        .deleteFrom('project_members')
        .where('project_id', '=', project.id)
        .where('user_id', '=', user.id)
        .execute();
      await trx
        .insertInto('project_members')
        .values({ project_id: project.id, user_id: user.id, role, created_at: createdAt })
        .execute();
    });
    this.auth.invalidate();
    return { user: userName, role, createdAt };
  }

  async listMembers(principal: Principal, projectName: string): Promise<Member[]> {
    const project = await this.auth.authorizeProject(principal, projectName, 'project:read');
    const rows = await this.store.db
      .selectFrom('project_members')
      .innerJoin('users', 'users.id', 'project_members.user_id')
      .select(['users.name', 'project_members.role', 'project_members.created_at'])
      .where('project_members.project_id', '=', project.id)
      .orderBy('users.name')
      .execute();
    return rows.map((r) => ({ user: r.name, role: r.role, createdAt: r.created_at }));
  }

  async removeMember(principal: Principal, projectName: string, userName: string): Promise<void> {
    const project = await this.auth.authorizeProject(principal, projectName, 'key:manage');
    const user = await this.store.db
      .selectFrom('users')
      .select(['id'])
      .where('name', '=', userName)
      .executeTakeFirst();
    const r = user
      ? await this.store.db
          .deleteFrom('project_members')
          .where('project_id', '=', project.id)
          .where('user_id', '=', user.id)
          .executeTakeFirst()
      : undefined;
    if (!r || Number(r.numDeletedRows) === 0) throw notFound('member', userName);
    this.auth.invalidate();
  }

  /** Checks a name and password; returns a new session (its token goes into the cookie only). */
  async login(name: string, password: string, ip: string): Promise<SessionInfo & { token: string }> {
    if (password.length > PASSWORD_MAX)
      throw invalid('password', `must be at most ${PASSWORD_MAX} characters`);
    const row = USER_NAME.test(name)
      ? await this.store.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst()
      : undefined;
    // Always run the hash, even for an unknown user, so the answer time does not tell which it was.
    const ok = await verifyPassword(password, row?.password_hash);
    if (!row || !ok || row.disabled_at !== null || row.kind !== 'user') {
      throw new AppError('UNAUTHENTICATED', 'the name or the password is wrong');
    }
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.sessionHours * 3_600_000).toISOString();
    await this.store.db
      .insertInto('sessions')
      .values({
        id: sha256(token),
        user_id: row.id,
        csrf_hash: sha256(csrfToken),
        created_at: nowIso(),
        expires_at: expiresAt,
        revoked_at: null,
        ip,
      })
      .execute();
    return { token, csrfToken, expiresAt, user: toUser(row) };
  }

  /** The principal of a session cookie, and whether the CSRF token matches; 401 for anything but a live session. */
  async authenticate(
    token: string,
    csrfToken: string | undefined,
  ): Promise<{ principal: Principal; csrfOk: boolean }> {
    if (!SESSION_TOKEN.test(token))
      throw new AppError('UNAUTHENTICATED', 'the session is not valid; log in again');
    const id = sha256(token);
    const now = Date.now();
    let entry = this.sessions.get(id);
    if (!entry || now - entry.at > CACHE_MS) {
      const row = await this.store.db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select([
          'sessions.id',
          'sessions.user_id',
          'sessions.csrf_hash',
          'sessions.expires_at',
          'sessions.revoked_at',
          'users.is_admin',
          'users.disabled_at',
        ])
        .where('sessions.id', '=', id)
        .executeTakeFirst();
      if (!row || row.revoked_at !== null || row.disabled_at !== null)
        throw new AppError('UNAUTHENTICATED', 'the session has ended; log in again');
      entry = {
        principal: {
          userId: row.user_id,
          keyId: null,
          sessionId: row.id,
          isAdmin: row.is_admin === 1,
          projectId: null,
          role: null,
        },
        csrfHash: row.csrf_hash,
        expiresAt: Date.parse(row.expires_at),
        at: now,
      };
      this.sessions.set(id, entry);
    }
    if (entry.expiresAt <= now)
      throw new AppError('UNAUTHENTICATED', 'the session has expired; log in again');
    const csrfOk =
      csrfToken !== undefined &&
      timingSafeEqual(Buffer.from(sha256(csrfToken), 'hex'), Buffer.from(entry.csrfHash, 'hex'));
    return { principal: entry.principal, csrfOk };
  }

  async whoami(principal: Principal): Promise<User> {
    const row = await this.store.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', principal.userId)
      .executeTakeFirstOrThrow();
    return toUser(row);
  }

  async logout(principal: Principal): Promise<void> {
    if (principal.sessionId === null)
      throw new AppError('STATE_CONFLICT', 'this request was not made with a session');
    await this.store.db
      .updateTable('sessions')
      .set({ revoked_at: nowIso() })
      .where('id', '=', principal.sessionId)
      .execute();
    this.sessions.delete(principal.sessionId);
  }
}

function checkPassword(password: string): void {
  if (password.length < PASSWORD_MIN)
    throw invalid('password', `must be at least ${PASSWORD_MIN} characters`);
  if (password.length > PASSWORD_MAX) throw invalid('password', `must be at most ${PASSWORD_MAX} characters`);
}

function toUser(r: {
  id: string;
  name: string;
  kind: string;
  is_admin: number;
  created_at: string;
  disabled_at: string | null;
}): User {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind === 'service' ? 'service' : 'user',
    isAdmin: r.is_admin === 1,
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
  };
}
