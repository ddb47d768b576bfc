import { Type } from '@sinclair/typebox';
import type { App, Services } from '../app.js';
import { withProblems } from '../schemas.js';

export function registerAuditRoutes(app: App, { audit }: Services): void {
  app.get(
    '/v1/audit',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['audit'],
        summary: 'The audit log as JSON Lines, oldest first (page with `after`)',
        querystring: Type.Object(
          {
            after: Type.Optional(Type.Integer({ minimum: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
          },
          { additionalProperties: false },
        ),
        produces: ['application/x-ndjson'],
        response: withProblems({}),
      },
    },
    async (request, reply) => {
      const rows = await audit.list({ after: request.query.after, limit: request.query.limit ?? 1000 });
      const body = rows
        .map((r) =>
          JSON.stringify({
            ...r,
            seq: Number(r.seq),
            details: JSON.parse(r.details_json) as unknown,
            details_json: undefined,
          }),
        )
        .join('\n');
      return reply.type('application/x-ndjson').send(body === '' ? '' : `${body}\n`);
    },
  );
  app.get(
    '/v1/audit/verify',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['audit'],
        summary: 'Recompute the hash chain and check it against the signed checkpoints',
        response: withProblems({
          200: Type.Object({
            ok: Type.Boolean(),
            entries: Type.Integer(),
            lastSeq: Type.Integer(),
            checkpoints: Type.Integer(),
            lastCheckpointSeq: Type.Integer(),
            problems: Type.Array(Type.Object({ seq: Type.Integer(), problem: Type.String() })),
          }),
        }),
      },
    },
    async () => audit.verify(),
  );
}
