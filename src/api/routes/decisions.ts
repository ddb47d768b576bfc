import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { App, Services } from '../app.js';
import { toEntry, type DecisionFilter } from '../../decisions/record.js';
import { withProblems } from '../schemas.js';

const Params = Type.Object({ project: Type.String({ maxLength: 63 }) });
const ServiceParams = Type.Object({
  project: Type.String({ maxLength: 63 }),
  service: Type.String({ maxLength: 63 }),
});
const DecisionParams = Type.Object({
  project: Type.String({ maxLength: 63 }),
  id: Type.String({ maxLength: 64 }),
});
const Loose = Type.Object({}, { additionalProperties: true });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const ServiceSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  ruleset: Type.String(),
  rulesetVersion: Type.Union([Type.Integer(), Type.Literal('active')]),
  deployments: Type.Array(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const RulesetVersionField = Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('active')], {
  description: 'a pinned (approved) version, or "active": the version active at decision time',
});
const Deployments = Type.Array(Type.String({ minLength: 1, maxLength: 63 }), { maxItems: 16 });
const Fired = Type.Array(
  Type.Object({
    rule: Type.String(),
    outcome: Type.String(),
    reason: Type.String(),
    priority: Type.Number(),
    table: Type.Optional(Type.String()),
  }),
);
const Versions = Type.Object({
  ruleset: Type.Object({ name: Type.String(), version: Type.Integer() }),
  models: Type.Array(
    Type.Object({ deployment: Type.String(), model: Type.String(), version: Type.Integer() }),
  ),
});
const DecisionAnswer = Type.Object({
  decisionId: Type.String(),
  service: Type.String(),
  outcome: Type.String(),
  reasons: Type.Array(Type.String()),
  fired: Fired,
  modelOutputs: Loose,
  facts: Loose,
  versions: Versions,
  businessKey: Nullable(Type.String()),
  createdAt: Type.String(),
});
const DecisionEntrySchema = Type.Object({
  id: Type.String(),
  service: Type.String(),
  businessKey: Nullable(Type.String()),
  status: Type.String({ description: 'ok or failed' }),
  outcome: Nullable(Type.String()),
  reasons: Type.Array(Type.String()),
  error: Nullable(Type.String()),
  inputs: Loose,
  facts: Loose,
  modelOutputs: Loose,
  fired: Fired,
  versions: Type.Object({
    ruleset: Type.Object({
      name: Type.String(),
      version: Nullable(Type.Integer()),
      id: Nullable(Type.String()),
    }),
    models: Type.Array(
      Type.Object({
        deployment: Type.String(),
        model: Type.String(),
        version: Type.Integer(),
        modelVersionId: Type.String(),
      }),
    ),
  }),
  caller: Type.Object({ userId: Nullable(Type.String()), keyId: Nullable(Type.String()) }),
  requestId: Type.String(),
  latencyMs: Type.Number(),
  createdAt: Type.String(),
  hash: Type.String(),
});
const Filters = {
  outcome: Type.Optional(Type.String({ maxLength: 128 })),
  status: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('failed')])),
  from: Type.Optional(Type.String({ maxLength: 64, description: 'ISO-8601, inclusive' })),
  to: Type.Optional(Type.String({ maxLength: 64, description: 'ISO-8601, exclusive' })),
  rule: Type.Optional(Type.String({ maxLength: 256, description: 'decisions where this rule fired' })),
  businessKey: Type.Optional(Type.String({ maxLength: 128 })),
  service: Type.Optional(Type.String({ maxLength: 63 })),
};

function filterOf(q: Partial<Record<keyof typeof Filters, string>>): DecisionFilter {
  return {
    outcome: q.outcome,
    status: q.status as DecisionFilter['status'],
    from: q.from,
    to: q.to,
    rule: q.rule,
    businessKey: q.businessKey,
    service: q.service,
  };
}

export function registerDecisionRoutes(app: App, { decisions }: Services): void {
  const { services, engine, record } = decisions;
  app.post(
    '/v1/projects/:project/decision-services',
    {
      config: { auth: 'deployment:write' },
      schema: {
        tags: ['decisions'],
        summary: 'Bind a rule set (a pinned version or "active") to deployments: a decision endpoint',
        params: Params,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 63 }),
            ruleset: Type.String({ minLength: 1, maxLength: 63 }),
            rulesetVersion: Type.Optional(RulesetVersionField),
            deployments: Deployments,
            description: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 201: ServiceSchema }, 409),
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await services.create(request.project!.id, request.body, request.principal!.userId)),
  );
  app.get(
    '/v1/projects/:project/decision-services',
    {
      config: { auth: 'ruleset:read' },
      schema: {
        tags: ['decisions'],
        summary: 'Decision services of a project',
        params: Params,
        response: withProblems({ 200: Type.Object({ items: Type.Array(ServiceSchema) }) }),
      },
    },
    async (request) => ({ items: await services.list(request.project!.id) }),
  );
  app.get(
    '/v1/projects/:project/decision-services/:service',
    {
      config: { auth: 'ruleset:read' },
      schema: {
        tags: ['decisions'],
        summary: 'One decision service',
        params: ServiceParams,
        response: withProblems({ 200: ServiceSchema }),
      },
    },
    async (request) => services.get(request.project!.id, request.params.service),
  );
  app.patch(
    '/v1/projects/:project/decision-services/:service',
    {
      config: { auth: 'deployment:write' },
      schema: {
        tags: ['decisions'],
        summary: 'Change the rule set, its version or the deployments of a decision service',
        params: ServiceParams,
        body: Type.Object(
          {
            ruleset: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
            rulesetVersion: Type.Optional(RulesetVersionField),
            deployments: Type.Optional(Deployments),
            description: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 200: ServiceSchema }, 409),
      },
    },
    async (request) => services.update(request.project!.id, request.params.service, request.body),
  );
  app.delete(
    '/v1/projects/:project/decision-services/:service',
    {
      config: { auth: 'deployment:write' },
      schema: {
        tags: ['decisions'],
        summary: 'Remove a decision service (its recorded decisions stay)',
        params: ServiceParams,
        response: withProblems({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await services.remove(request.project!.id, request.params.service);
      return reply.status(204).send();
    },
  );
  app.post(
    '/v1/projects/:project/decisions/:service',
    {
      config: { auth: 'decide' },
      schema: {
        tags: ['decisions'],
        summary:
          'Make a decision: call the models, evaluate the rules, record it, answer the outcome and reasons',
        description:
          'Fields the rules or the models need and the request lacks: 400 naming each, before any model is called. A model or rule failure fails the decision as a whole and records it as failed.',
        params: ServiceParams,
        body: Type.Object(
          {
            inputs: Type.Object({}, { additionalProperties: true, description: 'the case, field by name' }),
            businessKey: Type.Optional(
              Type.String({ minLength: 1, maxLength: 128, description: 'e.g. the application number' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 200: DecisionAnswer }, 409, 413, 422, 500, 503),
      },
    },
    async (request) =>
      engine.decide(
        request.project!.id,
        request.params.service,
        { inputs: request.body.inputs, businessKey: request.body.businessKey },
        { userId: request.principal!.userId, keyId: request.principal!.keyId, requestId: request.id },
      ),
  );
  app.get(
    '/v1/projects/:project/decisions',
    {
      config: { auth: 'decision:read' },
      schema: {
        tags: ['decisions'],
        summary:
          'Search recorded decisions, newest first (by outcome, time, fired rule, business key, service)',
        params: Params,
        querystring: Type.Object(
          {
            ...Filters,
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            cursor: Type.Optional(Type.String({ maxLength: 512 })),
          },
          { additionalProperties: false },
        ),
        response: withProblems({
          200: Type.Object({ items: Type.Array(DecisionEntrySchema), next: Nullable(Type.String()) }),
        }),
      },
    },
    async (request) => {
      const { limit, cursor, ...q } = request.query;
      const page = await record.search(request.project!.id, filterOf(q), limit ?? 100, cursor);
      return { items: page.rows.map(toEntry), next: page.nextCursor };
    },
  );
  app.get(
    '/v1/projects/:project/decisions/export',
    {
      config: { auth: 'decision:read' },
      schema: {
        tags: ['decisions'],
        summary:
          'Export recorded decisions as JSON Lines (streamed, newest first; same filters as the search)',
        params: Params,
        querystring: Type.Object(
          { ...Filters, limit: Type.Optional(Type.Integer({ minimum: 1 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { limit, ...q } = request.query;
      const projectId = request.project!.id;
      const filter = filterOf(q);
      // Validate the filters before the first byte: a bad date is a 400, not a broken stream.
      await record.search(projectId, filter, 1);
      async function* lines() {
        for await (const row of record.scan(projectId, filter, limit ?? Infinity))
          yield `${JSON.stringify(toEntry(row))}\n`;
      }
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', 'attachment; filename="decisions.jsonl"')
        .send(Readable.from(lines()));
    },
  );
  app.get(
    '/v1/projects/:project/decisions/:id',
    {
      config: { auth: 'decision:read' },
      schema: {
        tags: ['decisions'],
        summary:
          'One recorded decision: inputs, facts, model outputs and versions, fired rules, outcome, caller',
        params: DecisionParams,
        response: withProblems({ 200: DecisionEntrySchema }),
      },
    },
    async (request) => toEntry(await record.get(request.project!.id, request.params.id)),
  );
  app.post(
    '/v1/projects/:project/decisions/:id/replay',
    {
      config: { auth: 'decision:read' },
      schema: {
        tags: ['decisions'],
        summary:
          'Re-evaluate a recorded decision with the exact rule set version and model versions it used; `matches` compares with the record',
        params: DecisionParams,
        response: withProblems(
          {
            200: Type.Object({
              decisionId: Type.String(),
              outcome: Type.String(),
              recordedOutcome: Nullable(Type.String()),
              matches: Type.Boolean(),
              modelOutputsMatch: Type.Boolean(),
              reasons: Type.Array(Type.String()),
              fired: Fired,
              modelOutputs: Loose,
              versions: Versions,
            }),
          },
          409,
        ),
      },
    },
    async (request) => engine.replay(request.project!.id, request.params.id),
  );
}
