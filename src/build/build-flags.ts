/**
 * BuildKit `RUN` flags that would give a build step what Pitlane never gives a container:
 * `--network=host` (the host's network namespace) and `--security=insecure` (a privileged step).
 * They are refused for every build, whichever builder runs it (the Engine API's classic builder
 * rejects them anyway; the BuildKit path used for build secrets might not).
 */
import { PitlaneError } from '../errors.js';

const FORBIDDEN = [/^--network=host$/i, /^--security=insecure$/i];

/**
 * Throws when a `RUN` instruction of `dockerfile` carries a forbidden flag.
 * @param field the request field or manifest path to name in the error (e.g. `file`, `docker.dockerfile_path`).
 * @throws PitlaneError 400 `DOCKERFILE_FORBIDDEN` naming `field` and the 1-based line.
 */
export function refuseHostAccessFlags(dockerfile: string, field: string): void {
  const lines = dockerfile.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const start = index;
    let instruction = lines[index] ?? '';
    // A logical instruction continues while a line ends with a backslash.
    while (/\\\s*$/.test(instruction) && index + 1 < lines.length) {
      instruction = instruction.replace(/\\\s*$/, ' ') + (lines[++index] ?? '');
    }
    const match = /^\s*RUN\s+(.*)$/is.exec(instruction);
    if (!match) continue;
    for (const word of (match[1] ?? '').split(/\s+/)) {
      if (!word.startsWith('--')) break;
      if (FORBIDDEN.some((pattern) => pattern.test(word))) {
        throw new PitlaneError(400, 'DOCKERFILE_FORBIDDEN', `line ${start + 1}: RUN ${word} is not allowed (build steps get no host network and no privileges)`, [
          { path: field, line: start + 1, message: `RUN ${word} is refused` },
        ]);
      }
    }
  }
}
