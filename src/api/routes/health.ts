import { Type } from '@sinclair/typebox';
import type { App, Services } from '../app.js';

export function registerHealthRoutes(app: App, services: Services): void {
  app.get(
    '/healthz',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database answers and every deployment is loaded',
        security: [],
        response: {
          200: Type.Object({ status: Type.Literal('ready') }),
          503: Type.Object({ status: Type.Literal('not ready'), reason: Type.String() }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await services.store.ping();
      } catch {
        return reply
          .status(503)
          .send({ status: 'not ready' as const, reason: 'the metadata database does not answer' });
      }
      if (!services.deployments.ready)
        return reply
          .status(503)
          .send({ status: 'not ready' as const, reason: 'deployments are still loading' });
      return { status: 'ready' as const };
    },
  );
  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());
}
