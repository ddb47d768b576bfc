import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../client.js';
import { context, integer } from '../context.js';
import { table } from '../format.js';

interface AuditReport {
  ok: boolean;
  entries: number;
  lastSeq: number;
  checkpoints: number;
  lastCheckpointSeq: number;
  problems: { seq: number; problem: string }[];
}

function describeReport(r: AuditReport): string {
  const head = `${r.ok ? 'OK' : 'TAMPERED'}: ${r.entries} entries (last ${r.lastSeq}), ${r.checkpoints} signed checkpoints (last at ${r.lastCheckpointSeq})\n`;
  return head + r.problems.map((p) => `  entry ${p.seq}: ${p.problem}\n`).join('');
}

/** Site administration: users, memberships, and the audit log. */
export function registerAdminCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('recompute the hash chain and check the signed checkpoints (exit 1 when tampered)')
    .option(
      '--home <dir>',
      'verify offline, reading the database and checkpoints of this data folder directly',
    )
    .option('--database-url <url>', 'with --home: the metadata database (default sqlite:<home>/mass.db)')
    .option('--public-key <file>', 'the trusted checkpoint public key (PEM), kept apart from the server')
    .action(async (opts: { home?: string; databaseUrl?: string; publicKey?: string }, cmd: Command) => {
      const ctx = context(cmd);
      let report: AuditReport;
      if (opts.home) {
        const { openMetadataStore } = await import('../../store/open.js');
        const { AuditLog, Checkpoints } = await import('../../auth/audit.js');
        const store = openMetadataStore(opts.databaseUrl ?? `sqlite:${join(opts.home, 'mass.db')}`);
        try {
          const log = new AuditLog(store, new Checkpoints(join(opts.home, 'audit')));
          const trusted = opts.publicKey ? createPublicKey(readFileSync(opts.publicKey)) : undefined;
          const verified = await log.verify(trusted);
          report = { ...verified, problems: [...verified.problems] };
        } finally {
          await store.close();
        }
      } else {
        if (opts.publicKey)
          throw new CliError('--public-key needs --home (the server checks with its own key)');
        report = await ctx.client.request<AuditReport>('GET', '/v1/audit/verify');
      }
      ctx.show(report, () => describeReport(report));
      if (!report.ok) throw new CliError('the audit log does not verify: it was changed outside Mass');
    });
  audit
    .command('export')
    .description('the audit log as JSON Lines on stdout, oldest first')
    .option('--after <seq>', 'start after this entry', integer)
    .option('--limit <n>', 'at most this many entries', integer)
    .action(async (opts: { after?: number; limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.send('GET', '/v1/audit', {
        query: { after: opts.after, limit: opts.limit ?? 10_000 },
      });
      ctx.out(await res.text());
    });

  const users = program.command('users').alias('user').description('users and service accounts (site admin)');
  users
    .command('create <name>')
    .description('create a user (password read from MASS_PASSWORD) or a service account (--service)')
    .option('--service', 'a service account: keys only, no password')
    .option('--admin', 'a site admin')
    .action(async (name: string, opts: { service?: boolean; admin?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      const password = process.env.MASS_PASSWORD;
      if (!opts.service && !password)
        throw new CliError(
          "set MASS_PASSWORD to the new user's password (it is never taken from the command line)",
        );
      const res = await ctx.client.request<{ name: string; kind: string }>('POST', '/v1/users', {
        json: {
          name,
          kind: opts.service ? 'service' : 'user',
          ...(opts.service ? {} : { password }),
          isAdmin: opts.admin === true,
        },
      });
      ctx.show(res, () => `Created ${res.kind} ${res.name}\n`);
    });
  users
    .command('list')
    .description('every user and service account')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<{
        items: { name: string; kind: string; isAdmin: boolean; disabledAt: string | null }[];
      }>('GET', '/v1/users');
      ctx.show(res, () =>
        table(
          ['name', 'kind', 'admin', 'state'],
          res.items.map((u) => [
            u.name,
            u.kind,
            u.isAdmin ? 'yes' : '',
            u.disabledAt ? 'disabled' : 'active',
          ]),
        ),
      );
    });
  users
    .command('disable <name>')
    .description('disable a user: sessions end, keys stop working')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      await ctx.client.request('DELETE', `/v1/users/${encodeURIComponent(name)}`);
      ctx.show({ disabled: name }, () => `Disabled ${name}\n`);
    });

  const members = program.command('members').description('who has which role in a project');
  members
    .command('set <user> <role>')
    .description('give a user a role in a project')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (user: string, role: string, opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request(
        'PUT',
        `/v1/projects/${encodeURIComponent(opts.project)}/members/${encodeURIComponent(user)}`,
        { json: { role } },
      );
      ctx.show(res, () => `${user} is ${role} in ${opts.project}\n`);
    });
  members
    .command('list')
    .requiredOption('-p, --project <project>', 'project name')
    .action(async (opts: { project: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.request<{ items: { user: string; role: string }[] }>(
        'GET',
        `/v1/projects/${encodeURIComponent(opts.project)}/members`,
      );
      ctx.show(res, () =>
        table(
          ['user', 'role'],
          res.items.map((m) => [m.user, m.role]),
        ),
      );
    });
}
