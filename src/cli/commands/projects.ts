import type { Command } from 'commander';
import { path } from '../client.js';
import { context } from '../context.js';
import { date, fields, table } from '../format.js';
import type { Items, Project } from '../types.js';

export function registerProjectCommands(program: Command): void {
  const project = program.command('project').alias('projects').description('create and list projects');

  project
    .command('create')
    .description('create a project (site admin)')
    .argument('<name>', 'project name')
    .option('--description <text>', 'what the project is for')
    .action(async (name: string, opts: { description?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const created = await ctx.client.request<Project>('POST', '/v1/projects', {
        json: { name, description: opts.description },
      });
      ctx.show(created, () => `Created project ${created.name} (${created.id})\n`);
    });

  project
    .command('list')
    .description('the projects your key can see')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<Items<Project>>('GET', '/v1/projects');
      ctx.show(res, () =>
        res.items.length === 0
          ? 'No projects yet. Create one with: mass project create NAME\n'
          : table(
              ['name', 'description', 'created'],
              res.items.map((p) => [p.name, p.description, date(p.createdAt)]),
            ),
      );
    });

  project
    .command('show')
    .description('one project')
    .argument('<name>', 'project name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const p = await ctx.client.request<Project>('GET', path`/v1/projects/${name}`);
      ctx.show(p, () =>
        fields([
          ['name', p.name],
          ['id', p.id],
          ['description', p.description || '-'],
          ['created', date(p.createdAt)],
        ]),
      );
    });
}
