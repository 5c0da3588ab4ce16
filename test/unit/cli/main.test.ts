import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMAND_MODULES, runCli } from '../../../src/cli/main.js';
import { PitlaneClient, clientSettings } from '../../../src/cli/client.js';
import type { Output } from '../../../src/cli/output.js';

function capture(): Output & { text: () => string } {
  let text = '';
  return {
    out: (s: string) => {
      text += s;
    },
    err: (s: string) => {
      text += s;
    },
    text: () => text,
  } as Output & { text: () => string };
}

describe('lazy command modules', () => {
  it.each(COMMAND_MODULES.map((module) => [module.commands.join(','), module] as const))('module of %s registers exactly those commands', async (_name, module) => {
    const program = new Command();
    await module.register({ program, output: capture(), env: {}, setExit: () => {}, client: () => new PitlaneClient(clientSettings({})) });
    expect(program.commands.map((command) => command.name()).sort()).toEqual([...module.commands].sort());
  });

  it('loads every module without a known command, and only the one needed for a known command', async () => {
    const all = await buildProgram(capture(), {}, () => {});
    const names = all.commands.map((command) => command.name());
    expect(names.sort()).toEqual(COMMAND_MODULES.flatMap((module) => module.commands).sort());
    expect(new Set(names).size).toBe(names.length);
    const one = await buildProgram(capture(), {}, () => {}, 'runs');
    expect(one.commands.map((command) => command.name()).sort()).toEqual(['run', 'runs']);
  });

  it('still lists every command in --help', async () => {
    const output = capture();
    expect(await runCli(['node', 'pitlane', '--help'], output, {})).toBe(0);
    for (const name of COMMAND_MODULES.flatMap((module) => module.commands)) expect(output.text()).toContain(name);
  });
});
