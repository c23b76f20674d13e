import { describe, expect, it } from 'vitest';
import { TextEmbedder, type TextTowerRunner } from './textEmbedder';
import { FakeTokenizer } from '../../test/tinyModelServer';

/** A fake text tower: prompt row → [first id + last id, number of non-pad ids]; records each run. */
function recordingTower(): { run: TextTowerRunner; runs: { batch: number; seqLen: number }[] } {
  const runs: { batch: number; seqLen: number }[] = [];
  const run: TextTowerRunner = async (ids, batch, seqLen) => {
    runs.push({ batch, seqLen });
    const out = new Float32Array(batch * 2);
    for (let row = 0; row < batch; row++) {
      const rowIds = Array.from(ids.subarray(row * seqLen, (row + 1) * seqLen), Number).filter(
        (id) => id !== 0,
      );
      out[row * 2] = rowIds[1]!;
      out[row * 2 + 1] = rowIds.length;
    }
    return out;
  };
  return { run, runs };
}

describe('TextEmbedder', () => {
  it('averages normalised template embeddings and normalises the mean', async () => {
    // Two templates whose embeddings are the unit vectors (1, 0) and (0, 1): the ensemble is (1, 1)/√2.
    const tower: TextTowerRunner = async (_ids, batch) =>
      Float32Array.from({ length: batch * 2 }, (_, i) => (i === 0 ? 3 : i === 3 ? 5 : 0));
    const embedder = new TextEmbedder(new FakeTokenizer(), tower, 2, 'm', { batchSize: 8 });
    const { embeddings } = await embedder.embedLabels(['cat'], ['a {}', 'the {}']);
    expect(embeddings[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(embeddings[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('computes each (template, label) prompt once', async () => {
    const { run, runs } = recordingTower();
    const embedder = new TextEmbedder(new FakeTokenizer(), run, 2, 'm', { batchSize: 8 });
    await embedder.embedLabels(['cat', 'dog'], ['a {}']);
    expect(runs).toEqual([{ batch: 2, seqLen: 4 }]); // [BOS, a, cat, EOS]
    const again = await embedder.embedLabels(['dog', 'cat', 'red fox'], ['a {}']);
    expect(runs).toEqual([
      { batch: 2, seqLen: 4 },
      { batch: 1, seqLen: 5 },
    ]);
    expect(embedder.cachedPromptCount).toBe(3);
    expect(again.embeddings).toHaveLength(6);
    await embedder.embedLabels(['cat'], ['a {}', 'the {}']);
    expect(runs).toHaveLength(3);
  });

  it('batches prompts shortest first, each batch padded to its own longest prompt', async () => {
    const { run, runs } = recordingTower();
    const embedder = new TextEmbedder(new FakeTokenizer(), run, 2, 'm', { batchSize: 2 });
    await embedder.embedLabels(['a', 'b c d', 'e'], ['{}']);
    // Unsorted, 'a' and 'b c d' would share a batch padded to 5; sorted, the two short prompts go together.
    expect(runs).toEqual([
      { batch: 2, seqLen: 3 },
      { batch: 1, seqLen: 5 },
    ]);
  });

  it('gives each label its own embedding whatever order the sorted batches ran in', async () => {
    const { run } = recordingTower();
    const sorted = new TextEmbedder(new FakeTokenizer(), run, 2, 'm', { batchSize: 2 });
    const labels = ['b c d', 'a', 'x y', 'e'];
    const { embeddings } = await sorted.embedLabels(labels, ['{}']);
    for (const [row, label] of labels.entries()) {
      const alone = await new TextEmbedder(new FakeTokenizer(), run, 2, 'm').embedLabels([label], ['{}']);
      expect(Array.from(embeddings.subarray(row * 2, row * 2 + 2))).toEqual(Array.from(alone.embeddings));
    }
  });

  it('flags labels whose prompt was cut to the context length', async () => {
    const { run } = recordingTower();
    const embedder = new TextEmbedder(new FakeTokenizer(), run, 2, 'm');
    const { truncated } = await embedder.embedLabels(['short', 'one two three four five six seven'], ['{}']);
    expect(truncated).toEqual([false, true]);
  });

  it('drops the least recently used prompts beyond its cap, never the ones in use', async () => {
    const { run, runs } = recordingTower();
    const embedder = new TextEmbedder(new FakeTokenizer(), run, 2, 'm', { maxCachedFloats: 4 }); // 2 prompts
    await embedder.embedLabels(['a', 'b', 'c'], ['{}']);
    expect(embedder.cachedPromptCount).toBe(3);
    await embedder.embedLabels(['d'], ['{}']);
    expect(embedder.cachedPromptCount).toBe(2);
    await embedder.embedLabels(['c', 'd'], ['{}']);
    expect(runs).toHaveLength(2);
  });

  it('rejects an empty template list and a tower returning the wrong size', async () => {
    const embedder = new TextEmbedder(new FakeTokenizer(), async () => new Float32Array(3), 2, 'm');
    await expect(embedder.embedLabels(['a'], [])).rejects.toThrow(RangeError);
    await expect(embedder.embedLabels(['a'], ['{}'])).rejects.toThrow(/returned 3 values for 1 prompts/);
  });

  it('reports progress per batch and times every batch but the first (it may include opening the tower)', async () => {
    const { run } = recordingTower();
    const embedder = new TextEmbedder(new FakeTokenizer(), run, 2, 'm', { batchSize: 2 });
    const progress: string[] = [];
    const result = await embedder.embedLabels(['a', 'b', 'c', 'd', 'e'], ['{}'], {
      onProgress: ({ done, total }) => progress.push(`${done}/${total}`),
    });
    expect(progress).toEqual(['0/5', '2/5', '4/5', '5/5']);
    expect(result.promptsRun).toBe(3);
    expect(result.towerMs).toBeGreaterThanOrEqual(0);
    // Cached prompts are not run again, and not counted.
    const again: string[] = [];
    await embedder.embedLabels(['a', 'f'], ['{}'], {
      onProgress: ({ done, total }) => again.push(`${done}/${total}`),
    });
    expect(again).toEqual(['0/1', '1/1']);
  });

  it('stops between batches when cancelled; what was computed stays cached and the next call resumes', async () => {
    const { run, runs } = recordingTower();
    const embedder = new TextEmbedder(new FakeTokenizer(), run, 2, 'm', { batchSize: 2 });
    const controller = new AbortController();
    await expect(
      embedder.embedLabels(['a', 'b', 'c', 'd', 'e'], ['{}'], {
        signal: controller.signal,
        onProgress: ({ done }) => {
          if (done === 2) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ name: 'CancelledError' });
    expect(runs).toHaveLength(1);
    expect(embedder.cachedPromptCount).toBe(2);
    const progress: string[] = [];
    await embedder.embedLabels(['a', 'b', 'c', 'd', 'e'], ['{}'], {
      onProgress: ({ done, total }) => progress.push(`${done}/${total}`),
    });
    expect(progress.at(-1)).toBe('3/3');
  });
});
