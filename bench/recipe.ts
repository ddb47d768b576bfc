// A preparation recipe of five steps (filter, impute, standardize, derive, split) on 1,000,000 rows ×
// 30 columns, run through the recipe service as a job (compile, DuckDB COPY to Parquet, import of
// the output as a dataset version with its profile). Each measured run is a fresh child process, so
// its peak RSS is the recipe's own. Writes the "Preparation recipe" section of bench/RESULTS.md.
//
//   npm run bench:recipe            (node dist/bench/recipe.js [--rows 1000000] [--reps 3])
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { DataEngine } from '../src/data/engine.js';
import { compileRecipe } from '../src/data/recipes/compile.js';
import { planRecipe } from '../src/data/recipes/steps.js';
import { startPlatform, type Platform } from '../src/platform.js';
import { newId, nowIso } from '../src/store/metadata.js';
import { replaceSection } from './results.js';

const STEPS = [
  { type: 'filter', expression: 'n0 > 0.05 and k0 != "k3"' },
  { type: 'impute', columns: ['n1', 'n2', 'n3', 'n4', 'n5'], strategy: 'mean' },
  { type: 'standardize', columns: ['n6', 'n7', 'n8', 'n9', 'n10', 'n11', 'n12', 'n13', 'n14', 'n15'] },
  { type: 'derive', name: 'ratio', expression: 'n16 / (n17 + 1) + i0 * 2' },
  { type: 'split', fractions: { train: 0.8, validation: 0.1, test: 0.1 }, seed: 42 },
];

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function open(home: string): Promise<Platform> {
  return startPlatform(loadConfig({ home, logLevel: 'silent', host: '127.0.0.1', port: 0 }, {}));
}

async function userId(platform: Platform): Promise<string> {
  const row = await platform.services.store.db.selectFrom('users').select('id').executeTakeFirstOrThrow();
  return row.id;
}

/** 20 DOUBLE columns (n1..n5 with 5% missing), 5 BIGINT, 5 VARCHAR of 12 categories: hash-based, deterministic. */
async function setup(home: string, rows: number): Promise<number> {
  const platform = await open(home);
  try {
    const user = await userId(platform);
    const project = { id: newId('prj'), name: 'bench', description: '', created_at: nowIso() };
    await platform.services.store.db.insertInto('projects').values(project).execute();
    const file = join(home, 'input.parquet');
    const cols: string[] = [];
    for (let j = 0; j < 20; j++) {
      const value = `CAST(hash(range, ${j}) % 1000000 AS DOUBLE) / 1000000.0`;
      cols.push(
        j >= 1 && j <= 5
          ? `CASE WHEN hash(range, ${100 + j}) % 20 = 0 THEN NULL ELSE ${value} END AS n${j}`
          : `${value} AS n${j}`,
      );
    }
    for (let j = 0; j < 5; j++) cols.push(`CAST(hash(range, ${200 + j}) % 1000 AS BIGINT) AS i${j}`);
    for (let j = 0; j < 5; j++) cols.push(`'k' || CAST(hash(range, ${300 + j}) % 12 AS VARCHAR) AS k${j}`);
    const engine = new DataEngine({ home });
    await engine.withConnection(async (c) => {
      await c.run(`COPY (SELECT ${cols.join(', ')} FROM range(${rows})) TO $file (FORMAT parquet)`, { file });
    });
    await engine.close();
    const t0 = performance.now();
    await platform.services.datasets.importFile(
      project.id,
      'wide',
      { path: file, format: 'parquet' },
      { source: { kind: 'upload' } },
    );
    const importMs = performance.now() - t0;
    await platform.services.recipes.create(
      project.id,
      { name: 'five', inputs: { main: { dataset: 'wide', version: 'latest' } }, steps: STEPS },
      user,
    );
    return importMs;
  } finally {
    await platform.close();
  }
}

/** One measured run (in a child process): the recipe job end to end, and DuckDB's COPY of the same SQL alone. */
async function child(home: string, output: string, mode: 'job' | 'copy'): Promise<void> {
  const platform = await open(home);
  try {
    const project = (await platform.services.auth.findProject('bench'))!;
    const t0 = performance.now();
    const phases: { query?: number; import?: number } = {};
    if (mode === 'job') {
      const job = await platform.services.recipes.submitRun(
        project.id,
        'five',
        { output },
        await userId(platform),
      );
      for (;;) {
        const j = await platform.services.jobs.get(project.id, job.id);
        if (j.status === 'failed' || j.status === 'cancelled') throw new Error(`job ${j.status}: ${j.error}`);
        if (j.status === 'succeeded') break;
        // Phases from the job's messages (progress writes are throttled: boundaries within ~1 s).
        if (phases.query === undefined && j.message.startsWith('running'))
          phases.query = performance.now() - t0;
        if (phases.import === undefined && j.message.startsWith('importing'))
          phases.import = performance.now() - t0;
        await new Promise((r) => setTimeout(r, 20));
      }
    } else {
      const version = await platform.services.datasets.getVersion(project.id, 'wide');
      const path = await platform.services.datasets.parquetPath(version);
      const schema = version.schema.columns.map((c) => ({ name: c.name, type: c.type }));
      const plan = planRecipe(STEPS, { main: schema });
      // A DuckDB of the same settings as the platform's own (which the service keeps private).
      const engine = new DataEngine({ home });
      await engine.withConnection(async (c) => {
        const compiled = await compileRecipe(
          c,
          plan,
          { main: { path, schema } },
          { quoteIdent: engine.quoteIdent },
        );
        await c.run(`COPY (${compiled.sql}) TO $out (FORMAT parquet, COMPRESSION zstd)`, {
          ...compiled.params,
          out: join(home, `${output}.parquet`),
        });
      });
      await engine.close();
    }
    const ms = performance.now() - t0;
    process.stdout.write(
      `${JSON.stringify({ ms, rss: process.resourceUsage().maxRSS * 1024, ...phases })}\n`,
    );
  } finally {
    await platform.close();
  }
}

interface Run {
  ms: number;
  rss: number;
  query?: number;
  import?: number;
}

async function main(): Promise<void> {
  const modeAt = process.argv.indexOf('--child');
  if (modeAt >= 0) {
    const [home, output, mode] = process.argv.slice(modeAt + 1);
    await child(home!, output!, mode as 'job' | 'copy');
    return;
  }
  const rows = arg('rows', 1_000_000);
  const reps = arg('reps', 3);
  const home = mkdtempSync(join(tmpdir(), 'mass-bench-recipe-'));
  const loadStart = loadavg()[0]!;
  try {
    console.log(`generating ${rows} rows × 30 columns and importing them...`);
    const importMs = await setup(home, rows);
    const self = fileURLToPath(import.meta.url);
    const runs: Record<'job' | 'copy', Run[]> = { job: [], copy: [] };
    for (let r = 0; r < reps; r++) {
      // Interleaved, so that other load on the machine hits both alike.
      for (const mode of ['job', 'copy'] as const) {
        const out = execFileSync(process.execPath, [self, '--child', home, `out-${mode}-${r}`, mode], {
          encoding: 'utf8',
        });
        const m = JSON.parse(out.trim().split('\n').pop()!) as Run;
        runs[mode].push(m);
        console.log(
          `${mode} run ${r + 1}: ${(m.ms / 1000).toFixed(2)} s, peak RSS ${(m.rss / 2 ** 20).toFixed(0)} MiB`,
        );
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
    const job = { ms: median(runs.job.map((x) => x.ms)), rss: median(runs.job.map((x) => x.rss)) };
    const copy = { ms: median(runs.copy.map((x) => x.ms)), rss: median(runs.copy.map((x) => x.rss)) };
    const loadEnd = loadavg()[0]!;
    const phase = (f: (r: Run) => number | undefined) => {
      const xs = runs.job.map(f).filter((x): x is number => typeof x === 'number');
      return xs.length === runs.job.length ? s(median(xs)) : 'n/a';
    };
    const body = [
      `Five steps (filter by an expression, mean-impute 5 columns, standardize 10, derive a column by an`,
      `expression, seeded train/validation/test split) on ${rows.toLocaleString('en')} rows × 30 columns (20 DOUBLE, 5 BIGINT,`,
      `5 VARCHAR; hash-generated, deterministic). Median of ${reps} runs, each in a fresh process (peak RSS of that`,
      `process, which includes the platform itself).`,
      '',
      '| what | time | peak RSS |',
      '|---|---:|---:|',
      `| recipe run as a job: statistics, one DuckDB query → Parquet, import as a dataset version with its profile | ${s(job.ms)} | ${mib(job.rss)} |`,
      `| the same compiled query, DuckDB COPY → Parquet alone (no job, no import) | ${s(copy.ms)} | ${mib(copy.rss)} |`,
      '',
      `Phases of the job (from its progress messages, to within about a second): statistics of the steps (impute means,`,
      `standardize mean/std, by SQL on the data at each step) ${phase((r) => r.query)}; the one query writing Parquet`,
      `${phase((r) => (r.import !== undefined && r.query !== undefined ? r.import - r.query : undefined))}; import of the output (hash, checks, schema, profile: the data service's import; the file is kept as written, its types being Mass's already, where an upload's is rewritten; earlier runs rewrote it too: 2.28 s; the`,
      `same as any upload) ${phase((r) => (r.import !== undefined ? r.ms - r.import : undefined))}.`,
      '',
      `Import of the ${rows.toLocaleString('en')}-row input (Parquet, with its profile; not part of the recipe): ${s(importMs)}.`,
      '',
      `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; DuckDB 1.5 (@duckdb/node-api). Command: \`npm run bench:recipe\` (\`node dist/bench/recipe.js --rows ${rows} --reps ${reps}\`).`,
      `Load average (1 min) ${loadStart.toFixed(1)} at the start and ${loadEnd.toFixed(1)} at the end on ${cpus().length} cores${
        Math.max(loadStart, loadEnd) > cpus().length
          ? ': the machine was shared with other work during the run, so the times are upper bounds'
          : ''
      }.`,
    ].join('\n');
    replaceSection('bench/RESULTS.md', 'Preparation recipe', body);
    console.log(body);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
