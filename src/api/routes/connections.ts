import { Type, type TInteger, type TNull, type TString, type TUnion } from '@sinclair/typebox';
import { CONNECTION_KINDS, SSL_MODES } from '../../data/sources/driver.js';
import type { App, Services } from '../app.js';
import { ProjectParams, withProblems } from '../schemas.js';

const ConnectionParams = Type.Object({ project: Type.String(), connection: Type.String({ maxLength: 128 }) });

/** A saved connection as the API shows it: the password is write-only (`hasPassword` says whether one is set). */
export const ConnectionSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    kind: Type.Union(CONNECTION_KINDS.map((k) => Type.Literal(k))),
    host: Type.Union([Type.String(), Type.Null()]),
    port: Type.Union([Type.Integer(), Type.Null()]),
    database: Type.Union([Type.String(), Type.Null()]),
    user: Type.Union([Type.String(), Type.Null()]),
    path: Type.Union([Type.String(), Type.Null()]),
    ssl: Type.Object({ mode: Type.String(), hasCa: Type.Boolean() }),
    hasPassword: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

/**
 * A field that takes a value or `null` ("remove it"). Validated as one JSON Schema `type` list,
 * not anyOf: the API's AJV coerces types (coerceTypes: 'array'), and within anyOf the string
 * branch turns `null` into "" before the null branch is tried; with a type list AJV coerces only a
 * value of none of the listed types, so `null` stays null. Typed as the union it means.
 */
function nullable<T extends TString | TInteger>(schema: T) {
  const runtime = { ...schema, type: [schema.type, 'null'] };
  return Type.Optional(runtime as unknown as TUnion<[T, TNull]>);
}

const fields = {
  host: nullable(Type.String({ minLength: 1, maxLength: 253 })),
  port: nullable(Type.Integer({ minimum: 1, maximum: 65535 })),
  database: nullable(Type.String({ maxLength: 128 })),
  user: nullable(Type.String({ minLength: 1, maxLength: 128 })),
  password: nullable(
    Type.String({
      maxLength: 1024,
      description: 'write-only: stored encrypted (AES-256-GCM), never returned; null removes it',
    }),
  ),
  path: nullable(
    Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'sqlite: absolute path of a file inside MASS_SQLITE_SOURCE_DIRS',
    }),
  ),
  ssl: Type.Optional(
    Type.Object(
      {
        mode: Type.Optional(Type.Union(SSL_MODES.map((m) => Type.Literal(m)))),
        ca: Type.Optional(Type.String({ maxLength: 65_536, description: 'PEM certificates to trust' })),
      },
      { additionalProperties: false },
    ),
  ),
};

export function registerConnectionRoutes(app: App, { connections, config }: Services): void {
  app.get(
    '/v1/projects/:project/connections',
    {
      config: { auth: 'connection:manage' },
      schema: {
        tags: ['sources'],
        summary: 'Saved database connections of a project (passwords are never returned)',
        params: ProjectParams,
        response: withProblems({ 200: Type.Object({ items: Type.Array(ConnectionSchema) }) }),
      },
    },
    async (request) => ({ items: await connections.list(request.project!.id) }),
  );
  app.post(
    '/v1/projects/:project/connections',
    {
      config: { auth: 'connection:manage' },
      schema: {
        tags: ['sources'],
        summary: 'Save a PostgreSQL, MySQL/MariaDB or SQLite connection',
        params: ProjectParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 128 }),
            kind: Type.Union(CONNECTION_KINDS.map((k) => Type.Literal(k))),
            ...fields,
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 201: ConnectionSchema }, 409),
      },
    },
    async (request, reply) => {
      const { name, ...input } = request.body;
      const created = await connections.create(request.project!.id, name, input, request.principal!.userId);
      return reply.status(201).send(created);
    },
  );
  app.get(
    '/v1/projects/:project/connections/:connection',
    {
      config: { auth: 'connection:manage' },
      schema: {
        tags: ['sources'],
        summary: 'One saved connection (without its password)',
        params: ConnectionParams,
        response: withProblems({ 200: ConnectionSchema }),
      },
    },
    async (request) => connections.get(request.project!.id, request.params.connection),
  );
  app.patch(
    '/v1/projects/:project/connections/:connection',
    {
      config: { auth: 'connection:manage' },
      schema: {
        tags: ['sources'],
        summary: 'Change a saved connection; fields left out keep their value',
        params: ConnectionParams,
        body: Type.Object(fields, { additionalProperties: false }),
        response: withProblems({ 200: ConnectionSchema }),
      },
    },
    async (request) => connections.update(request.project!.id, request.params.connection, request.body),
  );
  app.delete(
    '/v1/projects/:project/connections/:connection',
    {
      config: { auth: 'connection:manage' },
      schema: {
        tags: ['sources'],
        summary: 'Delete a saved connection (dataset versions imported through it stay)',
        params: ConnectionParams,
        response: withProblems({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await connections.remove(request.project!.id, request.params.connection);
      return reply.status(204).send();
    },
  );
  app.post(
    '/v1/projects/:project/connections/:connection/test',
    {
      config: { auth: 'connection:manage' },
      schema: {
        tags: ['sources'],
        summary: 'Connect and report the server version, or why the connection fails',
        params: ConnectionParams,
        response: withProblems(
          {
            200: Type.Object({
              connection: Type.String(),
              kind: Type.String(),
              version: Type.String(),
              ms: Type.Integer(),
            }),
          },
          413,
          422,
          502,
          504,
        ),
      },
    },
    async (request) =>
      connections.test(request.project!.id, request.params.connection, config.sourceTimeoutSeconds * 1000),
  );
}
