import { expect } from 'vitest';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';

/** Runs `fn`, expecting a PitlaneError, and returns it. */
export function catchPitlane(fn: () => unknown): PitlaneError {
  try {
    fn();
  } catch (error) {
    expect(isPitlaneError(error), String(error)).toBe(true);
    return error as PitlaneError;
  }
  throw new Error('expected a PitlaneError, but nothing was thrown');
}

/** A minimal valid manifest as API JSON. */
export function baseManifest(): Record<string, unknown> {
  return { name: 'adder', owner_email: 'owner@example.com', jobtype: 'docker-proxy' };
}
