import type { Command } from 'commander';
import { CliError, path } from '../client.js';
import { context, list, positiveInt } from '../context.js';
import { date, fields, table } from '../format.js';
import { readJsonFile } from './rules.js';

interface DecisionAnswer {
  readonly decisionId: string;
  readonly outcome: string;
  readonly reasons: string[];
  readonly modelOutputs: Record<string, unknown>;
  readonly versions: {
    ruleset: { name: string; version: number };
    models: { deployment: string; model: string; version: number }[];
  };
  readonly businessKey: string | null;
}

interface DecisionEntry {
  readonly id: string;
  readonly service: string;
  readonly businessKey: string | null;
  readonly status: string;
  readonly outcome: string | null;
  readonly reasons: string[];
  readonly error: string | null;
  readonly versions: { ruleset: { name: string; version: number | null } };
  readonly createdAt: string;
}

interface ServiceInfo {
  readonly name: string;
  readonly ruleset: string;
  readonly rulesetVersion: number | 'active';
  readonly deployments: string[];
}

function parseInputs(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = text.startsWith('@') ? readJsonFile(text.slice(1)) : JSON.parse(text);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--input is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CliError('--input must be a JSON object of field name to value');
  return value as Record<string, unknown>;
}

export function registerDecisionCommands(program: Command): void {
  program
    .command('decide')
    .description(
      'make a decision: the service calls its models, evaluates its rules and records the decision',
    )
    .argument('<service>', 'decision service name')
    .requiredOption('-p, --project <project>', 'project name')
    .requiredOption('-i, --input <json>', 'the case as a JSON object, or @file.json: \'{"income": 52000}\'')
    .option('-b, --business-key <key>', 'your reference, e.g. the application number (searchable)')
    .action(
      async (
        service: string,
        opts: { project: string; input: string; businessKey?: string },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const d = await ctx.client.request<DecisionAnswer>(
          'POST',
          path`/v1/projects/${opts.project}/decisions/${service}`,
          { json: { inputs: parseInputs(opts.input), businessKey: opts.businessKey } },
        );
        ctx.show(
          d,
          () =>
            fields([
              ['outcome', d.outcome],
              ['decision', d.decisionId],
              ['business key', d.businessKey ?? ''],
              ['rule set', `${d.versions.ruleset.name} v${d.versions.ruleset.version}`],
              [
                'models',
                d.versions.models.map((m) => `${m.deployment}: ${m.model} v${m.version}`).join(', '),
              ],
            ]) + (d.reasons.length > 0 ? `reasons:\n${d.reasons.map((r) => `  - ${r}`).join('\n')}\n` : ''),
        );
      },
    );

  const decisions = program
    .command('decisions')
    .alias('decision')
    .description('decision services and the decision record: list, show, export, replay');

  decisions
    .command('bind')
    .description('create a decision service: a rule set bound to deployments')
    .argument('<name>', 'decision service name')
    .requiredOption('-p, --project <project>', 'project name')
    .requiredOption('-r, --ruleset <ruleset>', 'rule set name')
    .option(
      '--version <version>',
      'pin an approved version (default: the active one at decision time)',
      positiveInt,
    )
    .option('-d, --deployments <names>', 'deployments the rules read, comma-separated', list, [] as string[])
    .action(
      async (
        name: string,
        opts: { project: string; ruleset: string; version?: number; deployments: string[] },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const s = await ctx.client.request<ServiceInfo>(
          'POST',
          path`/v1/projects/${opts.project}/decision-services`,
          {
            json: {
              name,
              ruleset: opts.ruleset,
              rulesetVersion: opts.version ?? 'active',
              deployments: opts.deployments,
            },
          },
        );
        ctx.show(
          s,
          () =>
            `Decision service ${s.name}: rule set ${s.ruleset} (${s.rulesetVersion}) over ${s.deployments.join(', ') || 'no models'}. Decide with: mass decide ${s.name} -p ${opts.project} --input '{...}'\n`,
        );
      },
    );

  decisions
    .command('services')
    .description('decision services of a project')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<{ items: ServiceInfo[] }>(
        'GET',
        path`/v1/projects/${opts.project}/decision-services`,
      );
      ctx.show(res, () =>
        table(
          ['name', 'ruleset', 'version', 'deployments'],
          res.items.map((s) => [s.name, s.ruleset, s.rulesetVersion, s.deployments.join(', ')]),
        ),
      );
    });

  const filters = (c: Command) =>
    c
      .requiredOption('-p, --project <project>', 'project name')
      .option('--outcome <outcome>', 'only this outcome')
      .option('--status <status>', 'ok or failed')
      .option('--from <iso>', 'made at or after (ISO-8601)')
      .option('--to <iso>', 'made before (ISO-8601)')
      .option('--rule <rule>', 'where this rule fired')
      .option('--business-key <key>', 'with this business key')
      .option('--service <service>', 'of this decision service');
  type Filters = {
    project: string;
    outcome?: string;
    status?: string;
    from?: string;
    to?: string;
    rule?: string;
    businessKey?: string;
    service?: string;
  };
  const query = (o: Filters) => ({
    outcome: o.outcome,
    status: o.status,
    from: o.from,
    to: o.to,
    rule: o.rule,
    businessKey: o.businessKey,
    service: o.service,
  });

  filters(decisions.command('list').description('recorded decisions, newest first'))
    .option('--limit <n>', 'at most this many', positiveInt, 50)
    .action(async (opts: Filters & { limit: number }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<{ items: DecisionEntry[]; next: string | null }>(
        'GET',
        path`/v1/projects/${opts.project}/decisions`,
        { query: { ...query(opts), limit: opts.limit } },
      );
      ctx.show(res, () =>
        res.items.length === 0
          ? 'No decisions match.\n'
          : table(
              ['id', 'time', 'service', 'business key', 'outcome', 'rules', 'reasons'],
              res.items.map((d) => [
                d.id,
                date(d.createdAt),
                d.service,
                d.businessKey ?? '',
                d.status === 'ok' ? d.outcome : `FAILED: ${d.error ?? ''}`,
                `${d.versions.ruleset.name} v${d.versions.ruleset.version ?? '?'}`,
                d.reasons.join('; '),
              ]),
            ),
      );
    });

  decisions
    .command('show')
    .description('one recorded decision, in full')
    .argument('<id>', 'decision id')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (id: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const d = await ctx.client.request<unknown>('GET', path`/v1/projects/${opts.project}/decisions/${id}`);
      ctx.out(`${JSON.stringify(d, null, 2)}\n`);
    });

  filters(decisions.command('export').description('every matching decision as JSON Lines on stdout'))
    .option('--limit <n>', 'at most this many', positiveInt)
    .action(async (opts: Filters & { limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const response = await ctx.client.send('GET', path`/v1/projects/${opts.project}/decisions/export`, {
        query: { ...query(opts), limit: opts.limit },
      });
      if (!response.body) return;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
        process.stdout.write(chunk);
    });

  decisions
    .command('replay')
    .description('re-evaluate a recorded decision with the exact rule set and model versions it used')
    .argument('<id>', 'decision id')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (id: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const r = await ctx.client.request<{
        outcome: string;
        recordedOutcome: string | null;
        matches: boolean;
        modelOutputsMatch: boolean;
        versions: DecisionAnswer['versions'];
      }>('POST', path`/v1/projects/${opts.project}/decisions/${id}/replay`);
      ctx.show(r, () =>
        fields([
          ['replayed outcome', r.outcome],
          ['recorded outcome', r.recordedOutcome ?? ''],
          ['matches', r.matches ? 'yes' : 'NO'],
          ['model outputs match', r.modelOutputsMatch ? 'yes' : 'NO'],
          ['rule set', `${r.versions.ruleset.name} v${r.versions.ruleset.version}`],
          ['models', r.versions.models.map((m) => `${m.deployment}: ${m.model} v${m.version}`).join(', ')],
        ]),
      );
      if (!r.matches) process.exitCode = 1;
    });
}
