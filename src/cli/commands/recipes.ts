import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, path } from '../client.js';
import { context, positiveInt } from '../context.js';
import { date, fields, table, type Cell } from '../format.js';
import type { Job } from '../types.js';
import { indent, waitForJob } from '../wait.js';

interface Recipe {
  name: string;
  description: string;
  createdAt: string;
  latestVersion: number | null;
}
interface RecipeVersion {
  id: string;
  recipe: string;
  version: number;
  description: string;
  inputs: Record<string, { dataset: string; version: number | 'latest' }>;
  steps: { type?: string }[];
  outputSchema: { columns: { name: string; type: string }[] };
  createdAt: string;
}
interface Preview {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  rowCount: number;
  steps: number;
  inputs: Record<string, { dataset: string; version: number }>;
}
interface RunResult {
  dataset: string;
  version: number;
  created: boolean;
  recipe: string;
  recipeVersion: number;
  inputs: Record<string, { dataset: string; version: number }>;
}

/** A recipe file: `{"inputs": {...}, "steps": [...], "description": "..."}` (docs/recipes.md). */
async function readRecipeFile(
  file: string,
): Promise<{ inputs?: unknown; steps?: unknown; description?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new CliError(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CliError(`${file} must hold an object {"inputs": {...}, "steps": [...]}`);
  const { inputs, steps, description } = parsed as Record<string, unknown>;
  return {
    ...(inputs !== undefined ? { inputs } : {}),
    ...(steps !== undefined ? { steps } : {}),
    ...(typeof description === 'string' ? { description } : {}),
  };
}

function describeVersion(v: RecipeVersion): string {
  const inputs = Object.entries(v.inputs).map(([alias, i]) => `${alias}=${i.dataset}@${i.version}`);
  const head = fields([
    ['recipe', `${v.recipe} version ${v.version}`],
    ['inputs', inputs.join(', ')],
    ['description', v.description || undefined],
    ['created', date(v.createdAt)],
  ]);
  const steps = table(
    ['#', 'step', 'details'],
    v.steps.map((s, i) => {
      const { type, ...rest } = s as Record<string, unknown>;
      return [i, String(type), JSON.stringify(rest)];
    }),
  );
  const out = table(
    ['output column', 'type'],
    v.outputSchema.columns.map((c) => [c.name, c.type]),
  );
  return `${head}\n${steps}\n${out}`;
}

export function registerRecipeCommands(program: Command): void {
  const recipes = program
    .command('recipes')
    .alias('recipe')
    .description('preparation recipes: versioned steps that make a dataset version from others');

  recipes
    .command('create')
    .description('create a recipe, with its first version when --file gives inputs and steps')
    .argument('<name>', 'recipe name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('-f, --file <file>', 'JSON file {"inputs": {"main": {"dataset": "..."}}, "steps": [...]}')
    .option('-d, --description <text>', 'what the recipe is for')
    .action(
      async (name: string, opts: { project: string; file?: string; description?: string }, cmd: Command) => {
        const ctx = context(cmd);
        const body = opts.file ? await readRecipeFile(opts.file) : {};
        const res = await ctx.client.request<Recipe & { version?: RecipeVersion }>(
          'POST',
          path`/v1/projects/${opts.project}/recipes`,
          {
            json: {
              name,
              ...body,
              ...(opts.description !== undefined ? { description: opts.description } : {}),
            },
          },
        );
        ctx.show(res, () =>
          res.version
            ? `Created recipe ${res.name} with version 1 (${res.version.steps.length} steps, ${res.version.outputSchema.columns.length} output columns)\n`
            : `Created recipe ${res.name}. Add a version with: mass recipes add-version ${res.name} --project ${opts.project} --file recipe.json\n`,
        );
      },
    );

  recipes
    .command('add-version')
    .description('add the next version of a recipe from a JSON file')
    .argument('<name>', 'recipe name')
    .requiredOption('-p, --project <project>', 'project name')
    .requiredOption('-f, --file <file>', 'JSON file {"inputs": {...}, "steps": [...]}')
    .action(async (name: string, opts: { project: string; file: string }, cmd: Command) => {
      const ctx = context(cmd);
      const body = await readRecipeFile(opts.file);
      const v = await ctx.client.request<RecipeVersion>(
        'POST',
        path`/v1/projects/${opts.project}/recipes/${name}/versions`,
        {
          json: body,
        },
      );
      ctx.show(v, () => `Added recipe ${v.recipe} version ${v.version} (${v.steps.length} steps)\n`);
    });

  recipes
    .command('list')
    .description('recipes of a project')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<{ items: Recipe[] }>(
        'GET',
        path`/v1/projects/${opts.project}/recipes`,
      );
      ctx.show(res, () =>
        res.items.length === 0
          ? `No recipes in project ${opts.project}. Create one with: mass recipes create NAME --project ${opts.project} --file recipe.json\n`
          : table(
              ['name', 'latest', 'created', 'description'],
              res.items.map((r) => [r.name, r.latestVersion, date(r.createdAt), r.description]),
            ),
      );
    });

  recipes
    .command('show')
    .description('a recipe version: inputs, steps, output schema and the dataset versions its runs made')
    .argument('<name>', 'recipe name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('--version <version>', 'recipe version (default: the latest)', positiveInt)
    .action(async (name: string, opts: { project: string; version?: number }, cmd: Command) => {
      const ctx = context(cmd);
      let v: RecipeVersion;
      if (opts.version !== undefined) {
        v = await ctx.client.request<RecipeVersion>(
          'GET',
          path`/v1/projects/${opts.project}/recipes/${name}/versions/${opts.version}`,
        );
      } else {
        const r = await ctx.client.request<Recipe & { versions: RecipeVersion[] }>(
          'GET',
          path`/v1/projects/${opts.project}/recipes/${name}`,
        );
        const latest = r.versions[0];
        if (!latest) throw new CliError(`recipe ${name} has no versions yet`);
        v = latest;
      }
      const lineage = await ctx.client.request<{
        runs: {
          jobId: string;
          output: { dataset: string; version: number };
          created: boolean;
          inputs: RunResult['inputs'];
          createdAt: string;
        }[];
      }>('GET', path`/v1/projects/${opts.project}/recipes/${name}/versions/${v.version}/lineage`);
      ctx.show({ ...v, runs: lineage.runs }, () => {
        const runs =
          lineage.runs.length === 0
            ? 'No runs yet.\n'
            : table(
                ['output', 'from', 'created', 'job'],
                lineage.runs.map((r) => [
                  `${r.output.dataset}@${r.output.version}${r.created ? '' : ' (unchanged)'}`,
                  Object.entries(r.inputs)
                    .map(([alias, i]) => `${alias}=${i.dataset}@${i.version}`)
                    .join(', '),
                  date(r.createdAt),
                  r.jobId,
                ]),
              );
        return `${describeVersion(v)}\n${runs}`;
      });
    });

  recipes
    .command('preview')
    .description('run a recipe on the first rows of its input and print the result (nothing is stored)')
    .argument('<name>', 'recipe name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('--version <version>', 'a saved version (default: the latest)', positiveInt)
    .option('-f, --file <file>', 'draft steps (and inputs) to try instead of a saved version')
    .option('--up-to <n>', "apply only the first n steps (to see one step's effect)", (v) => Number(v))
    .option('--rows <n>', 'rows of the input to run on (default 10000)', positiveInt)
    .option('--sample', 'a seeded sample of the input instead of its first rows')
    .option('--limit <n>', 'rows to print (default 20)', positiveInt)
    .action(
      async (
        name: string,
        opts: {
          project: string;
          version?: number;
          file?: string;
          upTo?: number;
          rows?: number;
          sample?: boolean;
          limit?: number;
        },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        if (opts.upTo !== undefined && !(Number.isInteger(opts.upTo) && opts.upTo >= 0))
          throw new CliError('--up-to must be a whole number ≥ 0');
        const draft = opts.file ? await readRecipeFile(opts.file) : {};
        const res = await ctx.client.request<Preview>(
          'POST',
          path`/v1/projects/${opts.project}/recipes/${name}/preview`,
          {
            json: {
              ...draft,
              ...(opts.version !== undefined ? { version: opts.version } : {}),
              ...(opts.upTo !== undefined ? { upTo: opts.upTo } : {}),
              ...(opts.rows !== undefined ? { rows: opts.rows } : {}),
              ...(opts.sample ? { sample: true } : {}),
              limit: opts.limit ?? 20,
            },
          },
        );
        ctx.show(res, () => {
          const head = `${res.steps} steps on ${Object.entries(res.inputs)
            .map(([alias, i]) => `${alias}=${i.dataset}@${i.version}`)
            .join(', ')}: ${res.rowCount} rows out of the window, ${res.columns.length} columns\n`;
          const rows = table(
            res.columns.map((c) => `${c.name} (${c.type})`),
            res.rows.map((r) => res.columns.map((c) => r[c.name] as Cell)),
          );
          return `${head}${rows}`;
        });
      },
    );

  recipes
    .command('run')
    .description('run a recipe version into a dataset version and wait for it (progress on stderr)')
    .argument('<name>', 'recipe name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('--version <version>', 'recipe version (default: the latest)', positiveInt)
    .option('-o, --output <dataset>', 'the dataset to write (default: the recipe name)')
    .option('--no-wait', 'print the queued job and return at once')
    .action(
      async (
        name: string,
        opts: { project: string; version?: number; output?: string; wait: boolean },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const job = await ctx.client.request<Job>(
          'POST',
          path`/v1/projects/${opts.project}/recipes/${name}/run`,
          {
            json: {
              ...(opts.version !== undefined ? { version: opts.version } : {}),
              ...(opts.output !== undefined ? { output: opts.output } : {}),
            },
          },
        );
        if (!opts.wait) {
          ctx.show(
            job,
            () =>
              `Queued recipe job ${job.id}. Follow it with: mass jobs wait ${job.id} --project ${opts.project}\n`,
          );
          return;
        }
        const done = await waitForJob(ctx.client, opts.project, job.id);
        if (ctx.json) ctx.out(`${JSON.stringify(done, null, 2)}\n`);
        if (done.status === 'failed')
          throw new CliError(`job ${done.id} failed: ${done.error ?? 'no reason given'}`);
        if (done.status === 'cancelled') throw new CliError(`job ${done.id} was cancelled`);
        if (ctx.json) return;
        const r = done.result as RunResult;
        ctx.out(
          `${r.created ? 'Made' : 'Unchanged:'} dataset ${r.dataset} version ${r.version} from recipe ${r.recipe} version ${r.recipeVersion} (job ${done.id})\n`,
        );
        ctx.out(
          indent(
            fields(
              Object.entries(r.inputs).map(
                ([alias, i]) => [`input ${alias}`, `${i.dataset}@${i.version}`] as const,
              ),
            ),
          ),
        );
      },
    );
}
