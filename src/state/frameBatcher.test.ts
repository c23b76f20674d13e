import { describe, expect, it, vi } from 'vitest';
import { createBatcher } from './frameBatcher';

describe('createBatcher', () => {
  it('schedules one flush for many pushes and applies them together', () => {
    const scheduled: (() => void)[] = [];
    const apply = vi.fn();
    const batcher = createBatcher<number>(apply, () => (flush) => scheduled.push(flush));
    batcher.push(1);
    batcher.push(2);
    batcher.push(3);
    expect(scheduled).toHaveLength(1);
    expect(apply).not.toHaveBeenCalled();
    scheduled[0]!();
    expect(apply).toHaveBeenCalledWith([1, 2, 3]);
    batcher.push(4);
    expect(scheduled).toHaveLength(2);
  });

  it('flushes on demand and skips an empty scheduled flush', () => {
    const scheduled: (() => void)[] = [];
    const apply = vi.fn();
    const batcher = createBatcher<string>(apply, () => (flush) => scheduled.push(flush));
    batcher.push('a');
    batcher.flush();
    scheduled[0]!();
    expect(apply).toHaveBeenCalledTimes(1);
    expect(apply).toHaveBeenCalledWith(['a']);
  });
});
