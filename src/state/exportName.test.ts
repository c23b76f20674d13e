import { describe, expect, it } from 'vitest';
import { exportBaseName } from './exportActions';

describe('exportBaseName', () => {
  const day = new Date('2026-12-06T20:00:00Z');
  it('names the app once, even for a model whose id starts with it', () => {
    expect(exportBaseName('eva-lens-demo', day)).toBe('eva-lens-demo-2026-12-06');
  });
  it('keeps other model ids whole', () => {
    expect(exportBaseName('eva02-clip-b-16', day)).toBe('eva-lens-eva02-clip-b-16-2026-12-06');
  });
});
