import { Type } from '@sinclair/typebox';
import type { App, Services } from '../app.js';
import { ApiKeySchema, withProblems } from '../schemas.js';

export function registerKeyRoutes(app: App, { auth }: Services): void {
  app.post(
    '/v1/keys',
    {
      // Scope and role are checked by the service: admin for site keys, key:manage in the named project otherwise.
      config: { auth: 'authenticated' },
      schema: {
        tags: ['keys'],
        summary: 'Create an API key scoped to a project and a role; the key is shown once',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            project: Type.Optional(Type.String({ maxLength: 63 })),
            role: Type.String({ description: 'owner, maintainer, annotator, viewer or invoker' }),
            expiresAt: Type.Optional(Type.String({ description: 'ISO-8601 date and time' })),
            user: Type.Optional(
              Type.String({
                maxLength: 63,
                description: 'owner of the key: a user or service account (site admin only)',
              }),
            ),
            rateLimitRps: Type.Optional(
              Type.Number({
                exclusiveMinimum: 0,
                description: 'predictions (and decisions) per second for this key',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 201: Type.Object({ key: Type.String(), info: ApiKeySchema }) }),
      },
    },
    async (request, reply) => {
      const { name, project, role, expiresAt, user, rateLimitRps } = request.body;
      return reply.status(201).send(
        await auth.createKey(request.principal!, {
          name,
          projectName: project,
          role,
          expiresAt,
          userName: user,
          rateLimitRps,
        }),
      );
    },
  );
  app.get(
    '/v1/keys',
    {
      config: { auth: 'authenticated' },
      schema: {
        tags: ['keys'],
        summary: 'List keys (never the keys themselves): of a project, or all for a site admin',
        querystring: Type.Object(
          { project: Type.Optional(Type.String({ maxLength: 63 })) },
          { additionalProperties: false },
        ),
        response: withProblems({ 200: Type.Object({ items: Type.Array(ApiKeySchema) }) }),
      },
    },
    async (request) => ({ items: await auth.listKeys(request.principal!, request.query.project) }),
  );
  app.delete(
    '/v1/keys/:key',
    {
      config: { auth: 'authenticated' },
      schema: {
        tags: ['keys'],
        summary: 'Revoke a key',
        params: Type.Object({ key: Type.String({ maxLength: 100 }) }),
        response: withProblems({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await auth.revokeKey(request.principal!, request.params.key);
      return reply.status(204).send();
    },
  );
}
