/**
 * The shapes the API answers with, derived from the route schemas so that the client and the
 * server cannot drift apart. Type-only imports: nothing of the server is loaded by the CLI.
 */
import type { Static } from '@sinclair/typebox';
import type {
  ApiKeySchema,
  DatasetSchema,
  DatasetVersionSchema,
  DeploymentSchema,
  JobSchema,
  ModelSchema,
  ModelVersionSchema,
  PredictResponse as PredictResponseSchema,
  ProjectSchema,
} from '../api/schemas.js';

export type Project = Static<typeof ProjectSchema>;
export type Dataset = Static<typeof DatasetSchema>;
export type DatasetVersion = Static<typeof DatasetVersionSchema>;
export type DatasetWithVersions = Dataset & { versions: DatasetVersion[] };
export type Job = Static<typeof JobSchema>;
export type Model = Static<typeof ModelSchema>;
export type ModelVersion = Static<typeof ModelVersionSchema>;
export type ModelWithVersions = Model & { versions: ModelVersion[] };
export type Deployment = Static<typeof DeploymentSchema>;
export type PredictResponse = Static<typeof PredictResponseSchema>;
export type ApiKey = Static<typeof ApiKeySchema>;
export type Items<T> = { items: T[] };

/** What a training job hands back in `result` (see TrainingService.handler). */
export interface TrainResult {
  readonly model: string;
  readonly version?: number;
  readonly modelVersionId?: string;
  readonly metrics: Record<string, unknown>;
  readonly durationMs: number;
}
