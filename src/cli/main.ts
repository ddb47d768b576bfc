import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { describeError } from './errors.js';
import { registerAdminCommands } from './commands/admin.js';
import { registerArtifactCommands } from './commands/artifacts.js';
import { registerConnectionCommands } from './commands/connections.js';
import { registerDatasetCommands } from './commands/datasets.js';
import { registerDecisionCommands } from './commands/decisions.js';
import { registerDeployCommands } from './commands/deployments.js';
import { registerJobCommands, registerTrainCommand } from './commands/jobs.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerModelCommands } from './commands/models.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerProjectCommands } from './commands/projects.js';
import { registerRecipeCommands } from './commands/recipes.js';
import { registerRuleCommands } from './commands/rules.js';
import { registerServeCommand } from './commands/serve.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The `mass` command: a thin client of the HTTP API (and `mass serve`, the server itself). */
export function buildProgram(): Command {
  const program = new Command('mass')
    .description('Mass: a self-hosted Model-as-a-Service platform. A client of the Mass HTTP API.')
    // Settings made before the subcommands are added are inherited by them.
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError()
    // `-V` only: `--version` is an option of several subcommands (dataset, model and deployment versions).
    .version(VERSION, '-V', 'print the version of mass')
    .addOption(new Option('--url <url>', 'the Mass server').env('MASS_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--key <key>', 'API key (mass_...)').env('MASS_API_KEY'))
    .option('--json', 'print the raw JSON response instead of a table or summary');

  registerServeCommand(program);
  registerProjectCommands(program);
  registerDatasetCommands(program);
  registerConnectionCommands(program);
  registerRecipeCommands(program);
  registerTrainCommand(program);
  registerJobCommands(program);
  registerModelCommands(program);
  registerDeployCommands(program);
  registerPredictCommand(program);
  registerRuleCommands(program);
  registerDecisionCommands(program);
  registerKeyCommands(program);
  registerAdminCommands(program);
  registerArtifactCommands(program);
  return program;
}

/**
 * Runs the command line and returns the exit code: 0 on success, 1 when the call failed (the
 * server's problem detail and its field errors are printed), 2 for a usage error.
 */
export async function run(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2; // commander already printed it
    process.stderr.write(describeError(error));
    return 1;
  }
}
