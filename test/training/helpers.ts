// Shared helpers of the training tests: a shared dataset as columns plus a spec for trainPipeline.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CsvSchemaSniffer } from '../../src/data/csv.js';
import { readCsvColumns, type TableColumn } from '../../src/data/read.js';
import type { TrainSpec } from '../../src/training/spec.js';
import type { TaskKind } from '../../src/training/trainer.js';

export const SHARED_DATA = resolve('../shared/data');

export async function loadShared(name: string): Promise<{ columns: TableColumn[]; spec: TrainSpec }> {
  const path = join(SHARED_DATA, `${name}.csv`);
  const sniffer = new CsvSchemaSniffer();
  sniffer.write(readFileSync(path));
  const schema = await sniffer.end();
  const columns = await readCsvColumns(path, schema.columns, schema.rowCount);
  const target = schema.columns.find((c) => c.name === 'target')!;
  const manifest = JSON.parse(readFileSync(join(SHARED_DATA, 'manifest.json'), 'utf8')) as Record<
    string,
    { task: string }
  >;
  const task: TaskKind = manifest[name]!.task === 'regression' ? 'regression' : 'classification';
  return {
    columns,
    spec: {
      algorithm: task === 'regression' ? 'linear_regression' : 'logistic_regression',
      task,
      target,
      features: schema.columns.filter((c) => c.name !== 'target'),
      params: task === 'regression' ? { l2: 1 } : { l2: 1, maxIter: 300 },
      testFraction: 0.2,
      seed: 42,
      rowCount: schema.rowCount,
      model: name,
      datasetVersionId: 'test',
      datasetLabel: `${name}@1`,
    },
  };
}
