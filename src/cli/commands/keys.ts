import type { Command } from 'commander';
import { path } from '../client.js';
import { context } from '../context.js';
import { date, table } from '../format.js';
import type { ApiKey, Items, Project } from '../types.js';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').alias('key').description('create, list and revoke API keys');

  keys
    .command('create')
    .description('create an API key; it is shown this once')
    .requiredOption('-n, --name <name>', 'what the key is for')
    .requiredOption('-r, --role <role>', 'owner, maintainer, annotator, viewer or invoker')
    .option('-p, --project <project>', 'the project it is scoped to (omit for a site key, admin only)')
    .option('--expires-at <iso>', 'expiry, an ISO-8601 date and time')
    .action(
      async (opts: { name: string; role: string; project?: string; expiresAt?: string }, cmd: Command) => {
        const ctx = context(cmd);
        const res = await ctx.client.request<{ key: string; info: ApiKey }>('POST', '/v1/keys', {
          json: { name: opts.name, role: opts.role, project: opts.project, expiresAt: opts.expiresAt },
        });
        ctx.show(res, () => {
          const scope = opts.project ? `project ${opts.project}` : 'the whole site';
          const expiry = res.info.expiresAt ? `, expires ${date(res.info.expiresAt)}` : '';
          return (
            `Created key ${res.info.id} "${res.info.name}": role ${res.info.role} in ${scope}${expiry}\n\n` +
            `  ${res.key}\n\n` +
            `This key is not shown again: store it now. Use it with: export MASS_API_KEY=<the key>\n`
          );
        });
      },
    );

  keys
    .command('list')
    .description('keys of a project, or every key for a site admin (never the keys themselves)')
    .option('-p, --project <project>', 'project name')
    .action(async (opts: { project?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<Items<ApiKey>>('GET', '/v1/keys', {
        query: { project: opts.project },
      });
      // Keys name their project by id; show the name when the caller can see the project.
      const names = new Map<string, string>();
      if (!ctx.json && res.items.some((k) => k.projectId !== null)) {
        const projects = await ctx.client
          .request<Items<Project>>('GET', '/v1/projects')
          .catch(() => ({ items: [] }));
        for (const p of projects.items) names.set(p.id, p.name);
      }
      ctx.show(res, () =>
        res.items.length === 0
          ? 'No keys.\n'
          : table(
              ['id', 'prefix', 'name', 'role', 'project', 'created', 'expires', 'last used', 'state'],
              res.items.map((k) => [
                k.id,
                k.prefix,
                k.name,
                k.role,
                k.projectId === null ? '(site)' : (names.get(k.projectId) ?? k.projectId),
                date(k.createdAt),
                date(k.expiresAt),
                date(k.lastUsedAt),
                k.revokedAt
                  ? 'revoked'
                  : k.expiresAt && Date.parse(k.expiresAt) <= Date.now()
                    ? 'expired'
                    : 'active',
              ]),
            ),
      );
    });

  keys
    .command('revoke')
    .description('revoke a key: it stops working at once')
    .argument('<id>', 'key id (see mass keys list)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      await ctx.client.request<void>('DELETE', path`/v1/keys/${id}`);
      ctx.show({ revoked: id }, () => `Revoked key ${id}\n`);
    });
}
