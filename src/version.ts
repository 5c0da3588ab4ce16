/** Pitlane's own version, read from package.json (no other imports, so the CLI starts fast). */
import { readFileSync } from 'node:fs';

/** The `version` field of Pitlane's package.json, or `0.0.0` when it cannot be read. */
export function pitlaneVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}
