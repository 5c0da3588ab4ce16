import { describe, expect, it } from 'vitest';
import { parseCpuCores, parseQuantityBytes } from '../../../src/manifest/index.js';
import { catchPitlane } from './helpers.js';

describe('parseQuantityBytes', () => {
  it.each([
    ['0', 0],
    ['1073741824', 1073741824],
    ['512Mi', 536870912],
    ['1Gi', 1073741824],
    ['1.5Gi', 1610612736],
    ['64Ki', 65536],
    ['2Ti', 2 * 2 ** 40],
    ['1k', 1000],
    ['256M', 256_000_000],
    ['1G', 1_000_000_000],
    ['1.1G', 1_100_000_000],
    ['3T', 3e12],
    ['0.1Ki', 103],
    ['.5Mi', 524288],
  ])('%s → %d bytes', (input, bytes) => {
    expect(parseQuantityBytes(input)).toBe(bytes);
  });

  it.each(['', ' 1Gi', '1 Gi', '1gi', '1GB', '1mi', '-1Gi', '+1Gi', '1.5', '1e9', 'Gi', '1Gi ', '0x10', '99999999999999999999'])(
    'rejects %j',
    (input) => {
      const error = catchPitlane(() => parseQuantityBytes(input));
      expect(error.status).toBe(400);
      expect(error.code).toBe('INVALID_QUANTITY');
    },
  );

  it('hints at Mi for a milli suffix', () => {
    expect(catchPitlane(() => parseQuantityBytes('128m')).message).toContain('did you mean 128Mi?');
  });

  it('rejects a non-string at runtime', () => {
    expect(catchPitlane(() => parseQuantityBytes(5 as unknown as string)).status).toBe(400);
  });
});

describe('parseCpuCores', () => {
  it.each<[string | number, number]>([
    ['0.5', 0.5],
    ['2', 2],
    ['500m', 0.5],
    ['1500m', 1.5],
    ['10m', 0.01],
    ['.25', 0.25],
    [0.5, 0.5],
    [4, 4],
    ['0', 0],
  ])('%j → %d cores', (input, cores) => {
    expect(parseCpuCores(input)).toBe(cores);
  });

  it.each<string | number>(['', '0.5m', '1 ', 'm', '-1', '1c', '1.5M', -0.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects %j', (input) => {
    const error = catchPitlane(() => parseCpuCores(input));
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_QUANTITY');
  });
});
