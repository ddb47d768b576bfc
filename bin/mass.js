#!/usr/bin/env node
// The `mass` command. The code lives in TypeScript under src/cli; this file runs its build.
let cli;
try {
  cli = await import('../dist/src/cli/main.js');
} catch (error) {
  if (
    error &&
    error.code === 'ERR_MODULE_NOT_FOUND' &&
    String(error.message).includes('dist/src/cli/main.js')
  ) {
    console.error('mass: the CLI is not built yet; run `npm run build` in the Mass folder first');
    process.exit(1);
  }
  throw error;
}
process.exitCode = await cli.run(process.argv);
