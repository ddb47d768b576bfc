import { Type } from '@sinclair/typebox';
import type { App, Services } from '../app.js';
import { invalid } from '../../errors/index.js';
import { MAX_BACKTEST_DECISIONS } from '../../decisions/backtest.js';
import { JobSchema, withProblems } from '../schemas.js';

const Params = Type.Object({ project: Type.String({ maxLength: 63 }) });
const RuleSetParams = Type.Object({
  project: Type.String({ maxLength: 63 }),
  name: Type.String({ maxLength: 63 }),
});
const VersionParams = Type.Object({
  project: Type.String({ maxLength: 63 }),
  name: Type.String({ maxLength: 63 }),
  version: Type.Integer({ minimum: 1 }),
});
/** Rule set definitions and results are shown as stored: their shape is the rules module's (docs/decision-services.md). */
const Loose = Type.Object({}, { additionalProperties: true });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const VersionSummary = {
  id: Type.String(),
  ruleset: Type.String(),
  version: Type.Integer(),
  status: Type.String({ description: 'draft, submitted, approved, scheduled, active or superseded' }),
  definitionHash: Type.String(),
  comment: Type.String(),
  author: Type.String(),
  createdAt: Type.String(),
  submittedBy: Nullable(Type.String()),
  submittedAt: Nullable(Type.String()),
  approvedBy: Nullable(Type.String()),
  approvedAt: Nullable(Type.String()),
  effectiveFrom: Nullable(Type.String()),
};
const RuleSetVersionSchema = Type.Object({ ...VersionSummary, definition: Loose });
const RuleSetSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String(),
  latestVersion: Nullable(Type.Integer()),
  activeVersion: Nullable(Type.Integer()),
  versions: Type.Array(Type.Object(VersionSummary)),
  activations: Type.Array(
    Type.Object({
      version: Type.Integer(),
      effectiveFrom: Type.String(),
      kind: Type.String(),
      by: Type.String(),
      at: Type.String(),
      cancelledAt: Nullable(Type.String()),
    }),
  ),
});

export function registerRuleSetRoutes(app: App, { decisions }: Services): void {
  const { rulesets } = decisions;
  app.post(
    '/v1/projects/:project/rulesets',
    {
      config: { auth: 'ruleset:write' },
      schema: {
        tags: ['rules'],
        summary: 'Create a rule set (its versions are added next)',
        params: Params,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 63 }),
            description: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 201: RuleSetSchema }, 409),
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await rulesets.create(request.project!.id, request.body, request.principal!.userId)),
  );
  app.get(
    '/v1/projects/:project/rulesets',
    {
      config: { auth: 'ruleset:read' },
      schema: {
        tags: ['rules'],
        summary: 'Rule sets of a project',
        params: Params,
        response: withProblems({ 200: Type.Object({ items: Type.Array(RuleSetSchema) }) }),
      },
    },
    async (request) => ({ items: await rulesets.list(request.project!.id) }),
  );
  app.post(
    '/v1/projects/:project/rulesets/validate',
    {
      config: { auth: 'ruleset:read' },
      schema: {
        tags: ['rules'],
        summary:
          'Validate a rule set definition without storing it (422 lists every issue with its path and rule)',
        params: Params,
        body: Loose,
        response: withProblems({ 200: Type.Object({ valid: Type.Boolean(), definition: Loose }) }, 422),
      },
    },
    async (request) => ({
      valid: true,
      definition: (await rulesets.validate(request.body)) as unknown as Record<string, unknown>,
    }),
  );
  app.get(
    '/v1/projects/:project/rulesets/:name',
    {
      config: { auth: 'ruleset:read' },
      schema: {
        tags: ['rules'],
        summary: 'A rule set: its versions with their lifecycle state, and the history of activations',
        params: RuleSetParams,
        response: withProblems({ 200: RuleSetSchema }),
      },
    },
    async (request) => rulesets.get(request.project!.id, request.params.name),
  );
  app.post(
    '/v1/projects/:project/rulesets/:name/versions',
    {
      config: { auth: 'ruleset:write' },
      schema: {
        tags: ['rules'],
        summary: 'Add a draft version: the body is the rule set definition (validated; 422 names each issue)',
        params: RuleSetParams,
        querystring: Type.Object({ comment: Type.Optional(Type.String({ maxLength: 1000 })) }),
        body: Loose,
        response: withProblems({ 201: RuleSetVersionSchema }, 422),
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await rulesets.addVersion(
            request.project!.id,
            request.params.name,
            request.body,
            request.principal!.userId,
            request.query.comment ?? '',
          ),
        ),
  );
  app.get(
    '/v1/projects/:project/rulesets/:name/versions/:version',
    {
      config: { auth: 'ruleset:read' },
      schema: {
        tags: ['rules'],
        summary: 'One version with its definition and review trail',
        params: VersionParams,
        response: withProblems({ 200: RuleSetVersionSchema }),
      },
    },
    async (request) => rulesets.getVersion(request.project!.id, request.params.name, request.params.version),
  );
  app.delete(
    '/v1/projects/:project/rulesets/:name/versions/:version',
    {
      config: { auth: 'ruleset:write' },
      schema: {
        tags: ['rules'],
        summary: 'Delete a draft no decision used (anything else: 409)',
        params: VersionParams,
        response: withProblems({ 204: Type.Null() }, 409),
      },
    },
    async (request, reply) => {
      await rulesets.deleteVersion(request.project!.id, request.params.name, request.params.version);
      return reply.status(204).send();
    },
  );
  app.post(
    '/v1/projects/:project/rulesets/:name/versions/:version/submit',
    {
      config: { auth: 'ruleset:write' },
      schema: {
        tags: ['rules'],
        summary: 'Submit a draft for approval',
        params: VersionParams,
        response: withProblems({ 200: RuleSetVersionSchema }, 409),
      },
    },
    async (request) =>
      rulesets.submit(
        request.project!.id,
        request.params.name,
        request.params.version,
        request.principal!.userId,
      ),
  );
  app.post(
    '/v1/projects/:project/rulesets/:name/versions/:version/approve',
    {
      config: { auth: 'ruleset:approve' },
      schema: {
        tags: ['rules'],
        summary:
          'Approve a submitted version: another person than its author and submitter (four-eyes, else 403)',
        params: VersionParams,
        response: withProblems({ 200: RuleSetVersionSchema }, 409),
      },
    },
    async (request) =>
      rulesets.approve(
        request.project!.id,
        request.params.name,
        request.params.version,
        request.principal!.userId,
      ),
  );
  app.post(
    '/v1/projects/:project/rulesets/:name/versions/:version/activate',
    {
      config: { auth: 'ruleset:approve' },
      schema: {
        tags: ['rules'],
        summary: 'Activate an approved version now, or from `at` (scheduled); never-approved versions: 409',
        params: VersionParams,
        querystring: Type.Object({ at: Type.Optional(Type.String({ maxLength: 64 })) }),
        description:
          'The body (optional) is `{"at": "2030-01-01T00:00:00Z"}`: effective from that time (also accepted as `?at=`).',
        response: withProblems({ 200: RuleSetSchema }, 409),
      },
    },
    async (request) => {
      // The body is optional (activate now); fastify would refuse a missing body against a schema.
      const body: unknown = request.body;
      if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body)))
        throw invalid('body', 'must be an object: {"at": "<ISO-8601>"} or {}');
      const fields = (body ?? {}) as Record<string, unknown>;
      for (const key of Object.keys(fields))
        if (key !== 'at') throw invalid(`body/${key}`, 'is not a field of an activation (only "at")');
      const at = fields.at ?? request.query.at;
      if (at !== undefined && (typeof at !== 'string' || at.length > 64))
        throw invalid('/at', 'must be an ISO-8601 date and time');
      return decisions.activate(
        request.project!.id,
        request.params.name,
        request.params.version,
        request.principal!.userId,
        at,
      );
    },
  );
  app.post(
    '/v1/projects/:project/rulesets/:name/rollback',
    {
      config: { auth: 'ruleset:approve' },
      schema: {
        tags: ['rules'],
        summary:
          'Re-activate the previously active version at once (pending scheduled activations are cancelled)',
        params: RuleSetParams,
        response: withProblems({ 200: RuleSetSchema }, 409),
      },
    },
    async (request) => rulesets.rollback(request.project!.id, request.params.name, request.principal!.userId),
  );
  app.post(
    '/v1/projects/:project/rulesets/:name/versions/:version/backtest',
    {
      config: { auth: 'ruleset:write' },
      schema: {
        tags: ['rules'],
        summary:
          'Backtest a version (a draft too) against the last N recorded decisions: a job whose result has outcome counts before and after, flipped cases and transitions',
        params: VersionParams,
        body: Type.Object(
          {
            against: Type.Union([
              Type.Object(
                {
                  decisions: Type.Object(
                    {
                      last: Type.Integer({ minimum: 1, maximum: MAX_BACKTEST_DECISIONS }),
                      service: Type.Optional(Type.String({ maxLength: 63 })),
                    },
                    { additionalProperties: false },
                  ),
                },
                { additionalProperties: false },
              ),
              Type.Object(
                {
                  dataset: Type.Object(
                    {
                      name: Type.String({ minLength: 1, maxLength: 128 }),
                      version: Type.Optional(Type.Integer({ minimum: 1 })),
                      outcomeColumn: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
                    },
                    { additionalProperties: false },
                  ),
                },
                { additionalProperties: false },
              ),
            ]),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 202: JobSchema }, 409, 429),
      },
    },
    async (request, reply) => {
      const { name, version } = request.params;
      const loaded = await decisions.rulesets.loadByNumber(request.project!.id, name, version);
      const against = request.body.against;
      const service = 'decisions' in against ? against.decisions.service : undefined;
      if (service !== undefined)
        await decisions.services.get(request.project!.id, service).catch(() => {
          throw invalid(
            '/against/decisions/service',
            `decision service ${JSON.stringify(service)} does not exist`,
          );
        });
      const job = await decisions.backtests.submit(
        request.project!.id,
        loaded,
        against,
        request.principal!.userId,
      );
      return reply.status(202).send(job);
    },
  );
}
