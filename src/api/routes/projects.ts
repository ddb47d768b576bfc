import { Type } from '@sinclair/typebox';
import type { App, Services } from '../app.js';
import { ProjectParams, ProjectSchema, withProblems } from '../schemas.js';

export function registerProjectRoutes(app: App, { auth, quotas }: Services): void {
  app.post(
    '/v1/projects',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['projects'],
        summary: 'Create a project (site admin)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 63 }),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 201: ProjectSchema }, 409),
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await auth.createProject(request.principal!, request.body.name, request.body.description)),
  );
  app.get(
    '/v1/projects',
    {
      config: { auth: 'authenticated' },
      schema: {
        tags: ['projects'],
        summary: 'Projects the caller can see',
        response: withProblems({ 200: Type.Object({ items: Type.Array(ProjectSchema) }) }),
      },
    },
    async (request) => ({ items: await auth.listProjects(request.principal!) }),
  );
  app.get(
    '/v1/projects/:project',
    {
      config: { auth: 'project:read' },
      schema: {
        tags: ['projects'],
        summary: 'One project',
        params: ProjectParams,
        response: withProblems({ 200: ProjectSchema }),
      },
    },
    async (request) => request.project!,
  );
  app.patch(
    '/v1/admin/projects/:project/quotas',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['projects'],
        summary: "Set a project's quotas (site admin); null returns to the server default",
        params: ProjectParams,
        body: Type.Object(
          {
            maxConcurrentJobs: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
            storageQuotaBytes: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 200: Type.Object({ usageBytes: Type.Integer() }) }),
      },
    },
    async (request) => {
      const project = await auth.authorizeProject(request.principal!, request.params.project, 'project:read');
      await quotas.set(project.id, request.body);
      return { usageBytes: await quotas.usage(project.id) };
    },
  );
}
