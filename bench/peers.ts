// The peers the benches compare against: Debian's Python packages (scikit-learn, XGBoost, pandas),
// installed with apt-get when they are missing and we run as root (../shared/peers/README.md).
import { spawnSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

const PACKAGES: Readonly<Record<string, string>> = {
  sklearn: 'python3-sklearn',
  xgboost: 'python3-xgboost',
  pandas: 'python3-pandas',
};

/** True when every module imports, after installing the missing Debian packages if we may. */
export function ensurePython(modules: readonly (keyof typeof PACKAGES)[]): boolean {
  const ok = () =>
    spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0;
  if (ok()) return true;
  if (process.getuid?.() === 0) {
    const packages = modules.map((m) => PACKAGES[m]!);
    console.error(`installing ${packages.join(', ')} with apt-get ...`);
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      stdio: 'inherit',
    });
  }
  return ok();
}
