import { Type } from '@sinclair/typebox';
import { SESSION_COOKIE } from '../../auth/accounts.js';
import { PASSWORD_MAX } from '../../auth/passwords.js';
import { AppError } from '../../errors/index.js';
import type { App, Services } from '../app.js';
import { ProjectParams, withProblems } from '../schemas.js';

const UserSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  isAdmin: Type.Boolean(),
  createdAt: Type.String(),
  disabledAt: Type.Union([Type.String(), Type.Null()]),
});
const MemberSchema = Type.Object({ user: Type.String(), role: Type.String(), createdAt: Type.String() });

export function registerAccountRoutes(app: App, { accounts, audit, config }: Services): void {
  app.post(
    '/v1/users',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'Create a user (with a password) or a service account (keys only)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 63 }),
            password: Type.Optional(Type.String({ maxLength: PASSWORD_MAX })),
            kind: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('service')])),
            isAdmin: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 201: UserSchema }, 409),
      },
    },
    async (request, reply) =>
      reply.status(201).send(await accounts.createUser(request.principal!, request.body)),
  );
  app.get(
    '/v1/users',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'Users and service accounts',
        response: withProblems({ 200: Type.Object({ items: Type.Array(UserSchema) }) }),
      },
    },
    async (request) => ({ items: await accounts.listUsers(request.principal!) }),
  );
  app.delete(
    '/v1/users/:user',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'Disable a user: sessions end, keys stop working',
        params: Type.Object({ user: Type.String({ maxLength: 63 }) }),
        response: withProblems({ 204: Type.Null() }, 409),
      },
    },
    async (request, reply) => {
      await accounts.disableUser(request.principal!, request.params.user);
      return reply.status(204).send();
    },
  );

  app.post(
    '/v1/session',
    {
      config: { auth: 'public' },
      bodyLimit: 16 * 1024,
      schema: {
        tags: ['session'],
        summary:
          'Log in to the console: sets an HttpOnly session cookie; send the returned csrfToken as x-csrf-token on writes',
        security: [],
        body: Type.Object(
          { name: Type.String({ maxLength: 200 }), password: Type.String({ maxLength: PASSWORD_MAX + 1 }) },
          { additionalProperties: false },
        ),
        response: withProblems({
          200: Type.Object({ user: UserSchema, csrfToken: Type.String(), expiresAt: Type.String() }),
        }),
      },
    },
    async (request, reply) => {
      try {
        const session = await accounts.login(request.body.name, request.body.password, request.ip);
        void audit.append(loginEntry(request, session.user.id, 'success', 200));
        const secure = config.tlsCert !== undefined ? '; Secure' : '';
        reply.header(
          'set-cookie',
          `${SESSION_COOKIE}=${session.token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${config.sessionHours * 3600}${secure}`,
        );
        return { user: session.user, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
      } catch (error) {
        const status = error instanceof AppError ? error.status : 500;
        void audit.append(
          loginEntry(request, null, 'failure', status, { name: request.body.name.slice(0, 63) }),
        );
        throw error;
      }
    },
  );
  app.get(
    '/v1/session',
    {
      config: { auth: 'authenticated' },
      schema: { tags: ['session'], summary: 'Who am I', response: withProblems({ 200: UserSchema }) },
    },
    async (request) => accounts.whoami(request.principal!),
  );
  app.delete(
    '/v1/session',
    {
      config: { auth: 'authenticated' },
      schema: {
        tags: ['session'],
        summary: 'Log out: the session ends on the server',
        response: withProblems({ 204: Type.Null() }, 409),
      },
    },
    async (request, reply) => {
      await accounts.logout(request.principal!);
      reply.header('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
      return reply.status(204).send();
    },
  );

  const MemberParams = Type.Object({ project: Type.String(), user: Type.String({ maxLength: 63 }) });
  app.get(
    '/v1/projects/:project/members',
    {
      config: { auth: 'project:read' },
      schema: {
        tags: ['projects'],
        summary: 'Members of a project and their roles',
        params: ProjectParams,
        response: withProblems({ 200: Type.Object({ items: Type.Array(MemberSchema) }) }),
      },
    },
    async (request) => ({ items: await accounts.listMembers(request.principal!, request.params.project) }),
  );
  app.put(
    '/v1/projects/:project/members/:user',
    {
      config: { auth: 'key:manage' },
      schema: {
        tags: ['projects'],
        summary: 'Give a user a role in the project (or change it)',
        params: MemberParams,
        body: Type.Object({ role: Type.String() }, { additionalProperties: false }),
        response: withProblems({ 200: MemberSchema }),
      },
    },
    async (request) =>
      accounts.setMember(request.principal!, request.params.project, request.params.user, request.body.role),
  );
  app.delete(
    '/v1/projects/:project/members/:user',
    {
      config: { auth: 'key:manage' },
      schema: {
        tags: ['projects'],
        summary: 'Remove a member',
        params: MemberParams,
        response: withProblems({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await accounts.removeMember(request.principal!, request.params.project, request.params.user);
      return reply.status(204).send();
    },
  );
}

function loginEntry(
  request: { ip: string; id: string },
  userId: string | null,
  outcome: 'success' | 'failure',
  status: number,
  details: Record<string, unknown> = {},
) {
  return {
    actorUserId: userId,
    actorKeyId: null,
    projectId: null,
    action: 'session.login',
    target: '/v1/session',
    outcome,
    status,
    ip: request.ip,
    requestId: request.id,
    details,
  } as const;
}
