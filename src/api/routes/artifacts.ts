import { Type } from '@sinclair/typebox';
import { imageFileReferences } from '../../data/sources/image-references.js';
import { AppError } from '../../errors/index.js';
import { SweepRefused, sweepArtifacts } from '../../store/sweep.js';
import type { App, Services } from '../app.js';
import { withProblems } from '../schemas.js';

const Tally = Type.Object({ count: Type.Integer(), bytes: Type.Integer() });

export const SweepReportSchema = Type.Object({
  dryRun: Type.Boolean(),
  graceSeconds: Type.Number(),
  cutoff: Type.String({ format: 'date-time' }),
  stored: Tally,
  referenced: Tally,
  young: Tally,
  unreferenced: Tally,
  deleted: Tally,
  missing: Type.Integer(),
  sources: Type.Array(Type.Object({ name: Type.String(), hashes: Type.Integer() })),
});

/** Site administration of the artifact store. */
export function registerArtifactRoutes(
  app: App,
  { store, artifacts, datasets, images, auth }: Services,
): void {
  app.post(
    '/v1/admin/artifacts/sweep',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Delete stored files that nothing references and that are older than the grace period',
        description:
          'References: dataset versions, model versions, the image files of image datasets, job inputs and results. ' +
          'Unreferenced files younger than `graceHours` (default 24, at least 1 on a running server) are kept: work ' +
          'in flight may not have recorded them yet. `dryRun` counts without deleting.',
        body: Type.Object(
          {
            dryRun: Type.Optional(Type.Boolean()),
            graceHours: Type.Optional(Type.Number({ minimum: 1, maximum: 24 * 3650 })),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 200: SweepReportSchema }, 409),
      },
    },
    async (request) => {
      auth.requireAdmin(request.principal!);
      const { dryRun, graceHours } = request.body;
      try {
        return await sweepArtifacts(store, artifacts, {
          references: [imageFileReferences(datasets, images)],
          dryRun,
          graceMs: graceHours === undefined ? undefined : graceHours * 3_600_000,
        });
      } catch (error) {
        if (error instanceof SweepRefused) throw new AppError('STATE_CONFLICT', error.message);
        throw error;
      }
    },
  );
}
