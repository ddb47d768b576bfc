import { AppError } from '../../errors/index.js';
import type { ReferenceSource } from '../../store/sweep.js';
import type { DatasetService } from '../service.js';
import type { ImageRow, ImageService } from './images.js';

const PAGE = 500;

/**
 * The image files of image dataset versions, for the artifact sweep (store/sweep.ts). Their hashes
 * are not a database column: they are the `sha256` column of each version's own Parquet file, so
 * each image version's table is read. A version whose table cannot be read stops the sweep (the
 * error names it) rather than letting its images look unreferenced.
 *
 * Only versions imported from a zip (source kind `images`) are read. A recipe over an image
 * version copies its `sha256` column, but the input version stays (versions are never deleted),
 * and with it the reference.
 */
export function imageFileReferences(
  datasets: Pick<DatasetService, 'getVersionById'>,
  images: Pick<ImageService, 'list'>,
): ReferenceSource {
  return {
    name: 'dataset_versions (source kind images): the sha256 column of each version file',
    async *hashes(db) {
      let after = '';
      for (;;) {
        const rows = await db
          .selectFrom('dataset_versions')
          .select(['id', 'project_id', 'source_json'])
          .where('id', '>', after)
          .where('source_json', 'is not', null)
          .orderBy('id')
          .limit(PAGE)
          .execute();
        for (const row of rows) {
          if (!isImageSource(row.source_json)) continue;
          let files: ImageRow[];
          try {
            files = await images.list(await datasets.getVersionById(row.project_id, row.id));
          } catch (error) {
            throw new AppError(
              'STATE_CONFLICT',
              `cannot read the image files of dataset version ${row.id}, so nothing was swept: ${(error as Error).message}`,
              [],
              { cause: error },
            );
          }
          for (const file of files) yield file.sha256;
        }
        if (rows.length < PAGE) return;
        after = rows[rows.length - 1]!.id;
      }
    },
  };
}

function isImageSource(json: string | null): boolean {
  if (!json) return false;
  try {
    return (JSON.parse(json) as { kind?: unknown }).kind === 'images';
  } catch {
    return false;
  }
}
