import { Type } from '@sinclair/typebox';
import type { App, Services } from '../app.js';
import { JobSchema, ProjectParams, withProblems } from '../schemas.js';

const RecipeParams = Type.Object({
  project: Type.String({ maxLength: 63 }),
  recipe: Type.String({ maxLength: 128 }),
});
const VersionParams = Type.Object({
  project: Type.String({ maxLength: 63 }),
  recipe: Type.String({ maxLength: 128 }),
  version: Type.Integer({ minimum: 1 }),
});

const InputRefSchema = Type.Object({
  dataset: Type.String(),
  version: Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('latest')]),
});
const ColumnSchema = Type.Object({ name: Type.String(), type: Type.String() });
const RecipeSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  latestVersion: Type.Union([Type.Integer(), Type.Null()]),
});
const RecipeVersionSchema = Type.Object({
  id: Type.String(),
  recipe: Type.String(),
  version: Type.Integer(),
  description: Type.String(),
  inputs: Type.Record(Type.String(), InputRefSchema),
  steps: Type.Array(Type.Unknown()),
  outputSchema: Type.Object({ columns: Type.Array(ColumnSchema) }),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
const InputUsed = Type.Object({ dataset: Type.String(), version: Type.Integer(), id: Type.String() });
const FittedSchema = Type.Object({ step: Type.Integer(), type: Type.String(), values: Type.Unknown() });

/** Steps and inputs are checked by the recipe service, which names the step and field of a problem. */
const StepsField = Type.Array(
  Type.Unknown({ description: 'a step: {"type": "filter", "expression": "age > 30"}, ...' }),
  {
    maxItems: 200,
    description: 'the ordered steps (see docs/recipes.md)',
  },
);
const InputsField = Type.Record(Type.String(), Type.Unknown(), {
  description:
    '{"main": {"dataset": "customers", "version": "latest"}, "orders": {"dataset": "orders", "version": 3}}',
});

export function registerRecipeRoutes(app: App, { recipes }: Services): void {
  app.post(
    '/v1/projects/:project/recipes',
    {
      config: { auth: 'dataset:write' },
      schema: {
        tags: ['recipes'],
        summary: 'Create a preparation recipe, with its first version when inputs and steps are given',
        params: ProjectParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 128 }),
            description: Type.Optional(Type.String({ maxLength: 10_000 })),
            inputs: Type.Optional(InputsField),
            steps: Type.Optional(StepsField),
          },
          { additionalProperties: false },
        ),
        response: withProblems(
          {
            201: Type.Intersect([RecipeSchema, Type.Object({ version: Type.Optional(RecipeVersionSchema) })]),
          },
          409,
        ),
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await recipes.create(request.project!.id, request.body, request.principal!.userId)),
  );
  app.get(
    '/v1/projects/:project/recipes',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['recipes'],
        summary: 'Recipes of a project',
        params: ProjectParams,
        response: withProblems({ 200: Type.Object({ items: Type.Array(RecipeSchema) }) }),
      },
    },
    async (request) => ({ items: await recipes.list(request.project!.id) }),
  );
  app.get(
    '/v1/projects/:project/recipes/:recipe',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['recipes'],
        summary: 'A recipe with its versions, newest first',
        params: RecipeParams,
        response: withProblems({
          200: Type.Intersect([RecipeSchema, Type.Object({ versions: Type.Array(RecipeVersionSchema) })]),
        }),
      },
    },
    async (request) => recipes.get(request.project!.id, request.params.recipe),
  );
  app.post(
    '/v1/projects/:project/recipes/:recipe/versions',
    {
      config: { auth: 'dataset:write' },
      schema: {
        tags: ['recipes'],
        summary: 'Add the next version of a recipe: its inputs and steps, checked against the inputs now',
        params: RecipeParams,
        body: Type.Object(
          {
            inputs: InputsField,
            steps: StepsField,
            description: Type.Optional(Type.String({ maxLength: 10_000 })),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 201: RecipeVersionSchema }),
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await recipes.addVersion(
            request.project!.id,
            request.params.recipe,
            request.body,
            request.principal!.userId,
          ),
        ),
  );
  app.get(
    '/v1/projects/:project/recipes/:recipe/versions/:version',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['recipes'],
        summary: 'One recipe version: inputs, steps and the output schema',
        params: VersionParams,
        response: withProblems({ 200: RecipeVersionSchema }),
      },
    },
    async (request) => recipes.getVersion(request.project!.id, request.params.recipe, request.params.version),
  );
  app.get(
    '/v1/projects/:project/recipes/:recipe/versions/:version/lineage',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['recipes'],
        summary: 'The runs of a recipe version: which input dataset versions made which output versions',
        params: VersionParams,
        response: withProblems({
          200: Type.Object({
            recipe: Type.String(),
            version: Type.Integer(),
            recipeVersionId: Type.String(),
            inputs: Type.Record(Type.String(), InputRefSchema),
            runs: Type.Array(
              Type.Object({
                id: Type.String(),
                jobId: Type.String(),
                output: InputUsed,
                created: Type.Boolean(),
                inputs: Type.Record(Type.String(), InputUsed),
                fitted: Type.Array(FittedSchema),
                createdAt: Type.String({ format: 'date-time' }),
              }),
            ),
          }),
        }),
      },
    },
    async (request) => recipes.lineage(request.project!.id, request.params.recipe, request.params.version),
  );
  const previewBody = Type.Object(
    {
      version: Type.Optional(
        Type.Integer({ minimum: 1, description: 'a saved version; default the latest' }),
      ),
      steps: Type.Optional(StepsField),
      inputs: Type.Optional(InputsField),
      upTo: Type.Optional(Type.Integer({ minimum: 0, description: 'apply only the first upTo steps' })),
      rows: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 100_000,
          description: 'rows of the main input to run on; default 10000',
        }),
      ),
      sample: Type.Optional(
        Type.Boolean({ description: 'a seeded sample of rows instead of the first ones' }),
      ),
      limit: Type.Optional(
        Type.Integer({ minimum: 0, maximum: 1_000, description: 'rows returned; default 50' }),
      ),
    },
    { additionalProperties: false },
  );
  app.post(
    '/v1/projects/:project/recipes/:recipe/preview',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['recipes'],
        summary:
          'Run a version or draft steps on a window of the input and return rows and the output schema; nothing is stored',
        params: RecipeParams,
        body: previewBody,
        response: withProblems({
          200: Type.Object({
            columns: Type.Array(ColumnSchema),
            rows: Type.Array(Type.Record(Type.String(), Type.Unknown())),
            rowCount: Type.Integer({ description: 'rows the steps produced from the window' }),
            steps: Type.Integer({ description: 'steps applied' }),
            fitted: Type.Array(FittedSchema),
            inputs: Type.Record(Type.String(), InputUsed),
          }),
        }),
      },
    },
    async (request) => recipes.preview(request.project!.id, request.params.recipe, request.body),
  );
  const runResponse = withProblems({ 202: JobSchema }, 429);
  app.post(
    '/v1/projects/:project/recipes/:recipe/run',
    {
      config: { auth: 'dataset:write' },
      schema: {
        tags: ['recipes'],
        summary:
          'Run a recipe version (default the latest) as a job; its result names the dataset version made',
        params: RecipeParams,
        body: Type.Object(
          {
            version: Type.Optional(Type.Integer({ minimum: 1 })),
            output: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 128,
                description: 'dataset name; default the recipe name',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: runResponse,
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(
          await recipes.submitRun(
            request.project!.id,
            request.params.recipe,
            request.body,
            request.principal!.userId,
          ),
        ),
  );
  app.post(
    '/v1/projects/:project/recipes/:recipe/versions/:version/run',
    {
      config: { auth: 'dataset:write' },
      schema: {
        tags: ['recipes'],
        summary: 'Run this recipe version as a job',
        params: VersionParams,
        body: Type.Optional(
          Type.Object(
            { output: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) },
            { additionalProperties: false },
          ),
        ),
        response: runResponse,
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(
          await recipes.submitRun(
            request.project!.id,
            request.params.recipe,
            { version: request.params.version, output: request.body?.output },
            request.principal!.userId,
          ),
        ),
  );
}
