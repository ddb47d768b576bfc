import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Replaces (or appends) the `## title` section of a Markdown file, keeping the others. */
export function replaceSection(path: string, title: string, body: string): void {
  const heading = `## ${title}`;
  const stamped = `${heading}\n\n_Measured ${new Date().toISOString().slice(0, 10)}._\n\n${body.trim()}\n`;
  let text = existsSync(path)
    ? readFileSync(path, 'utf8')
    : '# Benchmark results\n\nEvery figure here is written by a script in `bench/`; rerun it to reproduce.\n';
  const start = text.indexOf(`${heading}\n`);
  if (start < 0) {
    text = `${text.trimEnd()}\n\n${stamped}`;
  } else {
    const next = text.indexOf('\n## ', start + heading.length);
    text = `${text.slice(0, start)}${stamped}${next < 0 ? '' : text.slice(next)}`;
  }
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
}
