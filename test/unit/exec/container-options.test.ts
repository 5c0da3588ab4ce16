import { describe, expect, it } from 'vitest';
import { containerCreateOptions, engineMessage, signalExitCode, startFailureExitCode } from '../../../src/exec/container-options.js';
import { parseExecEnvironment } from '../../../src/exec/spec.js';

describe('containerCreateOptions', () => {
  it('builds the create body from the spec: command, *_ENV, binds, label, attached output without TTY, AutoRemove like docker run --rm', () => {
    const spec = parseExecEnvironment({
      IMAGE: 'busybox:latest',
      COMMAND: 'sh -c "echo $DB_NAME_ENV"',
      VOLUMES: '["/tmp/out:/out", "/etc/app:/conf:ro", "cache-vol:/cache"]',
      DB_NAME_ENV: 'analytics',
      SECRET: 'not passed',
    });
    expect(containerCreateOptions(spec)).toEqual({
      Image: 'busybox:latest',
      Cmd: ['sh', '-c', 'echo $DB_NAME_ENV'],
      Env: ['DB_NAME_ENV=analytics'],
      Labels: { 'pitlane.exec': 'true' },
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      OpenStdin: false,
      Tty: false,
      HostConfig: { Binds: ['/tmp/out:/out', '/etc/app:/conf:ro', 'cache-vol:/cache'], AutoRemove: true },
    });
  });

  it('leaves Cmd out without COMMAND (the image decides) and adds Init on request', () => {
    const options = containerCreateOptions(parseExecEnvironment({ IMAGE: 'busybox' }), { init: true });
    expect(options).not.toHaveProperty('Cmd');
    expect(options.HostConfig).toEqual({ Binds: [], AutoRemove: true, Init: true });
  });
});

describe('exit statuses and engine messages', () => {
  it('maps start failures like docker run', () => {
    expect(startFailureExitCode('OCI runtime create failed: exec: "nope": executable file not found in $PATH: unknown')).toBe(127);
    expect(startFailureExitCode('exec: "/data/script.sh": permission denied: unknown')).toBe(126);
    expect(startFailureExitCode('driver failed programming external connectivity')).toBe(125);
    expect(signalExitCode('SIGINT')).toBe(130);
    expect(signalExitCode('SIGTERM')).toBe(143);
    expect(signalExitCode('SIGKILL')).toBe(137);
  });

  it("takes the engine's own message out of dockerode errors", () => {
    const withJson = Object.assign(new Error('(HTTP code 404) no such container - No such image: x:y '), { json: { message: 'No such image: x:y' } });
    expect(engineMessage(withJson)).toBe('No such image: x:y');
    const streamed = Object.assign(new Error('(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp: no such host '), { json: null });
    expect(engineMessage(streamed)).toBe('Get "https://registry-1.docker.io/v2/": dial tcp: no such host');
    expect(engineMessage(new Error('connect ENOENT /var/run/docker.sock'))).toBe('connect ENOENT /var/run/docker.sock');
  });
});
