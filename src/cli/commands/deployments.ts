import type { Command } from 'commander';
import { path } from '../client.js';
import { context, positiveInt } from '../context.js';
import { date, table } from '../format.js';
import type { Deployment, Items } from '../types.js';

export function registerDeployCommands(program: Command): void {
  program
    .command('deploy')
    .description('deploy a model version behind a named endpoint')
    .argument('<name>', 'deployment name (lowercase letters, digits, dashes)')
    .requiredOption('-p, --project <project>', 'project name')
    .requiredOption('-m, --model <model>', 'model name')
    .option('--version <version>', 'model version (default: the latest)', positiveInt)
    .action(
      async (name: string, opts: { project: string; model: string; version?: number }, cmd: Command) => {
        const ctx = context(cmd);
        const d = await ctx.client.request<Deployment>(
          'POST',
          path`/v1/projects/${opts.project}/deployments`,
          {
            json: { name, model: opts.model, version: opts.version },
          },
        );
        ctx.show(
          d,
          () =>
            `Deployed model ${d.model} version ${d.version} as ${d.name}${d.ready ? ' (ready)' : ''}. Predict with: mass predict ${d.name} --project ${opts.project} --rows '[...]'\n`,
        );
      },
    );

  const deployments = program
    .command('deployments')
    .alias('deployment')
    .description('list, switch and remove deployments');

  deployments
    .command('list')
    .description('deployments of a project')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<Items<Deployment>>(
        'GET',
        path`/v1/projects/${opts.project}/deployments`,
      );
      ctx.show(res, () =>
        res.items.length === 0
          ? `No deployments in project ${opts.project}.\n`
          : table(
              ['name', 'model', 'version', 'ready', 'updated'],
              res.items.map((d) => [d.name, d.model, d.version, d.ready ? 'yes' : 'no', date(d.updatedAt)]),
            ),
      );
    });

  deployments
    .command('update')
    .description('switch a deployment to another model version (warmed before the switch)')
    .argument('<name>', 'deployment name')
    .requiredOption('-p, --project <project>', 'project name')
    .option('-m, --model <model>', 'model name (default: the current one)')
    .requiredOption('--version <version>', 'model version', positiveInt)
    .action(
      async (name: string, opts: { project: string; model?: string; version: number }, cmd: Command) => {
        const ctx = context(cmd);
        const d = await ctx.client.request<Deployment>(
          'PATCH',
          path`/v1/projects/${opts.project}/deployments/${name}`,
          {
            json: { model: opts.model, version: opts.version },
          },
        );
        ctx.show(d, () => `Deployment ${d.name} now serves model ${d.model} version ${d.version}\n`);
      },
    );

  deployments
    .command('delete')
    .description('remove a deployment')
    .argument('<name>', 'deployment name')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (name: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      await ctx.client.request<void>('DELETE', path`/v1/projects/${opts.project}/deployments/${name}`);
      ctx.show({ deleted: name }, () => `Deleted deployment ${name}\n`);
    });
}
