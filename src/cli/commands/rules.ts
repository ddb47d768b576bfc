import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, path } from '../client.js';
import { context, positiveInt, type Context } from '../context.js';
import { date, fields, table } from '../format.js';
import { waitForJob } from '../wait.js';
import type { Job } from '../types.js';

interface VersionInfo {
  readonly version: number;
  readonly status: string;
  readonly author: string;
  readonly createdAt: string;
  readonly submittedBy: string | null;
  readonly submittedAt: string | null;
  readonly approvedBy: string | null;
  readonly approvedAt: string | null;
  readonly effectiveFrom: string | null;
  readonly comment: string;
  readonly definition?: unknown;
}

interface RuleSetInfo {
  readonly name: string;
  readonly description: string;
  readonly latestVersion: number | null;
  readonly activeVersion: number | null;
  readonly versions: readonly VersionInfo[];
  readonly activations: readonly {
    version: number;
    effectiveFrom: string;
    kind: string;
    by: string;
    cancelledAt: string | null;
  }[];
}

interface BacktestResult {
  readonly cases: number;
  readonly evaluated: number;
  readonly skipped: { count: number };
  readonly before: Record<string, number>;
  readonly after: Record<string, number>;
  readonly transitions: Record<string, number>;
  readonly flips: {
    total: number;
    items: {
      decisionId: string | null;
      row?: number;
      businessKey: string | null;
      before: string;
      after: string;
    }[];
  };
  readonly metrics?: {
    after: Record<string, { precision: number | null; recall: number | null; support: number }>;
  };
  readonly seconds: number;
}

/** Reads a rule set definition (JSON) from a file, or stdin with "-". */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

function showRuleSet(ctx: Context, rs: RuleSetInfo): void {
  ctx.show(rs, () => {
    const head = `Rule set ${rs.name}${rs.description ? ` — ${rs.description}` : ''}: active version ${rs.activeVersion ?? 'none'}\n`;
    if (rs.versions.length === 0)
      return `${head}No versions yet: mass rules add-version ${rs.name} <file.json>\n`;
    return (
      head +
      table(
        ['version', 'status', 'author', 'submitted', 'approved by', 'approved', 'effective'],
        rs.versions.map((v) => [
          v.version,
          v.status,
          v.author,
          date(v.submittedAt),
          v.approvedBy ?? '',
          date(v.approvedAt),
          date(v.effectiveFrom),
        ]),
      )
    );
  });
}

function showVersion(ctx: Context, name: string, v: VersionInfo, verb: string): void {
  ctx.show(v, () => `Rule set ${name} version ${v.version} ${verb}: ${v.status}\n`);
}

export function registerRuleCommands(program: Command): void {
  const rules = program
    .command('rules')
    .alias('ruleset')
    .description('rule sets: versions, validation, four-eyes review, activation, rollback and backtests');

  rules
    .command('create')
    .description('create a rule set')
    .argument('<name>', 'rule set name (lowercase letters, digits, dashes)')
    .requiredOption('-p, --project <project>', 'project name')
    .option('-d, --description <text>', 'what it decides')
    .action(async (name: string, opts: { project: string; description?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const rs = await ctx.client.request<RuleSetInfo>('POST', path`/v1/projects/${opts.project}/rulesets`, {
        json: { name, description: opts.description },
      });
      ctx.show(
        rs,
        () =>
          `Created rule set ${rs.name}. Add a version: mass rules add-version ${rs.name} rules.json -p ${opts.project}\n`,
      );
    });

  rules
    .command('list')
    .description('rule sets of a project')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<{ items: RuleSetInfo[] }>(
        'GET',
        path`/v1/projects/${opts.project}/rulesets`,
      );
      ctx.show(res, () =>
        res.items.length === 0
          ? `No rule sets in project ${opts.project}.\n`
          : table(
              ['name', 'latest', 'active', 'description'],
              res.items.map((r) => [r.name, r.latestVersion ?? '', r.activeVersion ?? '', r.description]),
            ),
      );
    });

  rules
    .command('show')
    .description('a rule set with its versions, or one version with its definition')
    .argument('<name>', 'rule set name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('--version <version>', 'one version (its definition is printed)', positiveInt)
    .action(async (name: string, opts: { project: string; version?: number }, cmd: Command) => {
      const ctx = context(cmd);
      if (opts.version === undefined) {
        showRuleSet(
          ctx,
          await ctx.client.request<RuleSetInfo>('GET', path`/v1/projects/${opts.project}/rulesets/${name}`),
        );
        return;
      }
      const v = await ctx.client.request<VersionInfo>(
        'GET',
        path`/v1/projects/${opts.project}/rulesets/${name}/versions/${opts.version}`,
      );
      ctx.show(
        v,
        () =>
          fields([
            ['version', v.version],
            ['status', v.status],
            ['author', `${v.author} at ${date(v.createdAt)}`],
            ['submitted', v.submittedBy ? `${v.submittedBy} at ${date(v.submittedAt)}` : ''],
            ['approved', v.approvedBy ? `${v.approvedBy} at ${date(v.approvedAt)}` : ''],
            ['effective from', date(v.effectiveFrom)],
            ['comment', v.comment],
          ]) + `${JSON.stringify(v.definition, null, 2)}\n`,
      );
    });

  rules
    .command('validate')
    .description('check a rule set definition without storing it (every issue with its path and rule)')
    .argument('<file>', 'JSON file ("-" for stdin)')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (file: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<{ valid: boolean }>(
        'POST',
        path`/v1/projects/${opts.project}/rulesets/validate`,
        {
          json: readJsonFile(file),
        },
      );
      ctx.show(res, () => `${file}: valid\n`);
    });

  rules
    .command('add-version')
    .description('add a draft version from a JSON file (validated by the server)')
    .argument('<name>', 'rule set name')
    .argument('<file>', 'JSON file ("-" for stdin)')
    .requiredOption('-p, --project <project>', 'project name')
    .option('-m, --comment <text>', 'what changed')
    .action(async (name: string, file: string, opts: { project: string; comment?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const v = await ctx.client.request<VersionInfo>(
        'POST',
        path`/v1/projects/${opts.project}/rulesets/${name}/versions`,
        {
          json: readJsonFile(file),
          query: { comment: opts.comment },
        },
      );
      ctx.show(
        v,
        () =>
          `Added version ${v.version} of ${name} (draft). Submit it: mass rules submit ${name} ${v.version} -p ${opts.project}\n`,
      );
    });

  for (const [verb, done, help] of [
    ['submit', 'submitted', 'submit a draft for approval'],
    ['approve', 'approved', 'approve a submitted version (another person than its author: four-eyes)'],
  ] as const) {
    rules
      .command(verb)
      .description(help)
      .argument('<name>', 'rule set name')
      .argument('<version>', 'version number', positiveInt)
      .requiredOption('-p, --project <project>', 'project name')
      .action(async (name: string, version: number, opts: { project: string }, cmd: Command) => {
        const ctx = context(cmd);
        const v = await ctx.client.request<VersionInfo>(
          'POST',
          path`/v1/projects/${opts.project}/rulesets/${name}/versions/${version}/${verb}`,
        );
        showVersion(ctx, name, v, done);
      });
  }

  rules
    .command('activate')
    .description('activate an approved version now, or from a date and time (--at)')
    .argument('<name>', 'rule set name')
    .argument('<version>', 'version number', positiveInt)
    .requiredOption('-p, --project <project>', 'project name')
    .option('--at <iso>', 'effective from (ISO-8601, e.g. 2030-01-01T00:00:00Z)')
    .action(async (name: string, version: number, opts: { project: string; at?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const rs = await ctx.client.request<RuleSetInfo>(
        'POST',
        path`/v1/projects/${opts.project}/rulesets/${name}/versions/${version}/activate`,
        { json: opts.at ? { at: opts.at } : {} },
      );
      showRuleSet(ctx, rs);
    });

  rules
    .command('rollback')
    .description('re-activate the previously active version, at once')
    .argument('<name>', 'rule set name')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (name: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      showRuleSet(
        ctx,
        await ctx.client.request<RuleSetInfo>(
          'POST',
          path`/v1/projects/${opts.project}/rulesets/${name}/rollback`,
        ),
      );
    });

  rules
    .command('delete-version')
    .description('delete a draft no decision used')
    .argument('<name>', 'rule set name')
    .argument('<version>', 'version number', positiveInt)
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (name: string, version: number, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      await ctx.client.request(
        'DELETE',
        path`/v1/projects/${opts.project}/rulesets/${name}/versions/${version}`,
      );
      ctx.show({ deleted: true }, () => `Deleted draft ${version} of ${name}\n`);
    });

  rules
    .command('backtest')
    .description(
      'run a version (a draft too) against the last N recorded decisions, or a dataset version, and show what would change',
    )
    .argument('<name>', 'rule set name')
    .argument('<version>', 'version number', positiveInt)
    .requiredOption('-p, --project <project>', 'project name')
    .option('--last <n>', 'the last N decisions', positiveInt, 1000)
    .option('--service <service>', 'only decisions of this decision service')
    .option(
      '--dataset <name[@version]>',
      'against the rows of a dataset version instead of recorded decisions',
    )
    .option('--outcome-column <column>', "the dataset's true outcome: precision and recall per outcome")
    .action(
      async (
        name: string,
        version: number,
        opts: { project: string; last: number; service?: string; dataset?: string; outcomeColumn?: string },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const [dataset, datasetVersion] = (opts.dataset ?? '').split('@');
        const against = opts.dataset
          ? {
              dataset: {
                name: dataset,
                version: datasetVersion === undefined ? undefined : positiveInt(datasetVersion),
                outcomeColumn: opts.outcomeColumn,
              },
            }
          : { decisions: { last: opts.last, service: opts.service } };
        const job = await ctx.client.request<Job>(
          'POST',
          path`/v1/projects/${opts.project}/rulesets/${name}/versions/${version}/backtest`,
          { json: { against } },
        );
        const done = await waitForJob(ctx.client, opts.project, job.id);
        if (done.status !== 'succeeded') throw new CliError(`backtest ${done.status}: ${done.error ?? ''}`);
        const r = done.result as BacktestResult;
        ctx.show(r, () => {
          const outcomes = [...new Set([...Object.keys(r.before), ...Object.keys(r.after)])].sort();
          const what = opts.dataset ? 'rows' : 'decisions';
          let text =
            `Backtest of ${name} v${version} on ${r.cases} ${what} (${r.evaluated} evaluated, ${r.skipped.count} skipped) in ${r.seconds} s\n` +
            table(
              ['outcome', 'before', 'after', 'change'],
              outcomes.map((o) => {
                const b = r.before[o] ?? 0;
                const a = r.after[o] ?? 0;
                return [o, b, a, a - b >= 0 ? `+${a - b}` : String(a - b)];
              }),
            ) +
            `${r.flips.total} case${r.flips.total === 1 ? '' : 's'} flip${r.flips.total === 1 ? 's' : ''}`;
          if (r.flips.total > 0) {
            text += `:\n${table(
              ['case', 'business key', 'before', 'after'],
              r.flips.items
                .slice(0, 20)
                .map((f) => [f.decisionId ?? `row ${f.row}`, f.businessKey ?? '', f.before, f.after]),
            )}`;
            if (r.flips.total > 20)
              text += `... and ${r.flips.total - 20} more (--json for the first 1000)\n`;
          } else text += '\n';
          if (r.metrics)
            text += table(
              ['outcome', 'precision', 'recall', 'support'],
              Object.entries(r.metrics.after).map(([o, m]) => [
                o,
                m.precision === null ? '' : m.precision.toFixed(3),
                m.recall === null ? '' : m.recall.toFixed(3),
                m.support,
              ]),
            );
          return text;
        });
      },
    );
}
