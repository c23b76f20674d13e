import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configureEngineBridge, loadModel, resetEngineBridge } from './engineBridge';
import { FakeEngine, colourVector, deferred } from './fakeEngine.testing';
import { resetStore } from './resetStore.testing';
import { searchImages } from './searchPipeline';
import { useLensStore } from './store';
import type { EmbedLabelsResult } from '../core/protocol';

const state = () => useLensStore.getState();
let engine: FakeEngine;

beforeEach(async () => {
  vi.useFakeTimers();
  engine = new FakeEngine();
  configureEngineBridge({ createEngine: () => engine, schedule: (flush) => flush(), labelDebounceMs: 200 });
  await loadModel();
  engine.embedLabels.mockClear();
});

afterEach(() => {
  resetEngineBridge();
  resetStore();
  vi.useRealTimers();
});

describe('searchImages', () => {
  it('embeds the query as typed (no templates) once typing pauses', async () => {
    searchImages('a r');
    searchImages('a red');
    searchImages('a red thing');
    expect(state().searchQuery).toBe('a red thing');
    expect(engine.embedLabels).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(200);
    expect(engine.embedLabels).toHaveBeenCalledTimes(1);
    expect(engine.embedLabels).toHaveBeenCalledWith({ labels: ['a red thing'], templates: ['{}'] });
    expect(state().searchStatus).toBe('ready');
    expect(Array.from(state().queryEmbedding!.vector)).toEqual(Array.from(colourVector('a red thing')));
  });

  it('keeps only the newest answer when an older one arrives late', async () => {
    const slow = deferred<EmbedLabelsResult>();
    engine.embedLabels.mockReturnValueOnce(slow.promise);
    searchImages('red');
    await vi.advanceTimersByTimeAsync(200);
    searchImages('blue');
    await vi.advanceTimersByTimeAsync(200);
    expect(state().queryEmbedding?.query).toBe('blue');
    slow.resolve({ embeddings: colourVector('red'), dim: 3, truncated: [false], ms: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(state().queryEmbedding?.query).toBe('blue');
  });

  it('ends the search at once when the box is emptied, and says when embedding fails', async () => {
    searchImages('red');
    searchImages('');
    await vi.advanceTimersByTimeAsync(500);
    expect(engine.embedLabels).not.toHaveBeenCalled();
    expect(state().searchStatus).toBe('idle');
    engine.embedLabels.mockRejectedValueOnce(new Error('text tower failed'));
    searchImages('green');
    await vi.advanceTimersByTimeAsync(200);
    expect(state().searchStatus).toBe('error');
    expect(state().searchError).toBe('text tower failed');
  });
});
