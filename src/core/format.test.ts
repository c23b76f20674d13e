import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatPercent } from './format';

describe('format', () => {
  it('formats sizes in decimal units, as browsers and disks report them', () => {
    expect(formatBytes(812)).toBe('812 bytes');
    expect(formatBytes(4_200_000)).toBe('4.20 MB');
    expect(formatBytes(151_000_000)).toBe('151.0 MB');
    expect(formatBytes(1_310_000_000)).toBe('1.31 GB');
  });

  it('keeps small probabilities from reading as zero', () => {
    expect(formatPercent(0.873)).toBe('87%');
    expect(formatPercent(0.012)).toBe('1.2%');
    expect(formatPercent(0.0001)).toBe('<0.1%');
  });

  it('says time left as people say it', () => {
    expect(formatDuration(12.4)).toBe('12 s');
    expect(formatDuration(185)).toBe('3 min');
    expect(formatDuration(3900)).toBe('1 h 5 min');
  });
});
