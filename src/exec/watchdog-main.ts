/**
 * Entry of the `pitlane exec` watchdog process (see watchdog.ts): `node watchdog-main.js ID`,
 * started detached by `pitlane exec` with a pipe as stdin. When that pipe reaches end of file
 * (`pitlane exec` died without stopping its watchdog), it force-removes container ID.
 */
import { Engine, engineAddress } from './engine.js';
import { guardContainer } from './watchdog.js';

const containerId = process.argv[2];
if (containerId) {
  process.exitCode = await guardContainer(containerId, process.stdin, () => Engine.connect(engineAddress(process.env))).catch(() => 1);
} else {
  process.stderr.write('usage: node watchdog-main.js CONTAINER_ID  (started by pitlane exec)\n');
  process.exitCode = 2;
}
