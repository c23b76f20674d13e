import { afterEach, describe, expect, it } from 'vitest';
import { fakeLoadedModel } from './fakeEngine.testing';
import type { LabelEmbeddings } from './labelsSlice';
import { resetStore } from './resetStore.testing';
import {
  selectOutcome,
  selectQueryCosineRange,
  selectRankedImageIds,
  selectReferenceCosine,
  selectTopLabelCounts,
  selectTopLabels,
  selectTruncatedLabelIds,
} from './selectors';
import { useLensStore } from './store';

const state = () => useLensStore.getState();

function unit(values: number[]): Float32Array {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (value) => value / norm);
}

/** Three labels on the axes of a 3-d space. */
const labels: LabelEmbeddings = {
  labelIds: ['red', 'green', 'blue'],
  labelTexts: ['a red thing', 'a green thing', 'a blue thing'],
  embeddings: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]),
  dim: 3,
  truncated: [false, true, false],
  ms: 1,
  fromCache: 0,
};

function addImage(id: string, embedding: Float32Array | null): void {
  state().queueImages([{ id, name: id, size: 1, fileKey: id }]);
  if (embedding) {
    state().applyImageResults(
      [
        {
          kind: 'embedded',
          imageId: id,
          embedding,
          width: 1,
          height: 1,
          thumbnailUrl: null,
          ms: 1,
          fromCache: false,
        },
      ],
      1,
    );
  }
}

function setUp(): void {
  state().setModelReady(fakeLoadedModel()); // logit scale 100
  state().setLabelEmbeddings(labels);
  addImage('mostly-red', unit([0.9, 0.3, 0.1]));
  addImage('pending', null);
  addImage('mostly-blue', unit([0.2, 0.25, 0.9]));
  addImage('red-and-green', unit([0.6, 0.55, 0]));
}

afterEach(resetStore);

describe('selectTopLabels', () => {
  it('gives softmax(100 × cosine) probabilities and raw cosines, best first', () => {
    setUp();
    const top = selectTopLabels(state(), 'mostly-red', 3);
    const cosines = unit([0.9, 0.3, 0.1]);
    const exps = [...cosines].map((c) => Math.exp(100 * (c - cosines[0]!)));
    const sum = exps.reduce((a, b) => a + b, 0);
    expect(top.map((score) => score.labelId)).toEqual(['red', 'green', 'blue']);
    expect(top[0]!.label).toBe('a red thing');
    expect(top[0]!.cosine).toBeCloseTo(cosines[0]!, 6);
    expect(top[1]!.cosine).toBeCloseTo(cosines[1]!, 6);
    expect(top[0]!.probability).toBeCloseTo(exps[0]! / sum, 6);
    expect(top[1]!.probability).toBeCloseTo(exps[1]! / sum, 6);
    expect(top.reduce((total, score) => total + score.probability, 0)).toBeCloseTo(1, 6);
  });

  it('returns the same array for the same inputs and a new one after the labels change', () => {
    setUp();
    const first = selectTopLabels(state(), 'mostly-blue', 2);
    expect(first).toHaveLength(2);
    expect(selectTopLabels(state(), 'mostly-blue', 2)).toBe(first);
    state().setLabelEmbeddings({ ...labels });
    expect(selectTopLabels(state(), 'mostly-blue', 2)).not.toBe(first);
    expect(selectTopLabels(state(), 'mostly-blue', 2)).toEqual(first);
  });

  it('is empty for an image without embedding, without labels, or with another dimension', () => {
    setUp();
    expect(selectTopLabels(state(), 'pending')).toEqual([]);
    expect(selectTopLabels(state(), 'nope')).toEqual([]);
    state().setLabelEmbeddings({
      ...labels,
      labelIds: [],
      labelTexts: [],
      embeddings: new Float32Array(),
      truncated: [],
    });
    expect(selectTopLabels(state(), 'mostly-red')).toEqual([]);
    state().setLabelEmbeddings({ ...labels, embeddings: new Float32Array(12), dim: 4 });
    expect(selectTopLabels(state(), 'mostly-red')).toEqual([]);
  });
});

describe('selectRankedImageIds', () => {
  it('keeps the added order when no label is selected', () => {
    setUp();
    expect(selectRankedImageIds(state())).toEqual(['mostly-red', 'pending', 'mostly-blue', 'red-and-green']);
  });

  it('ranks embedded images by the selected label and puts unembedded ones last', () => {
    setUp();
    state().toggleSelectedLabel('green');
    // Green probabilities: red-and-green ≈ e^-6, mostly-red ≈ e^-63, mostly-blue ≈ e^-68.
    expect(selectRankedImageIds(state())).toEqual(['red-and-green', 'mostly-red', 'mostly-blue', 'pending']);
    state().toggleSelectedLabel('red');
    expect(selectRankedImageIds(state())).toEqual(['mostly-red', 'red-and-green', 'mostly-blue', 'pending']);
    const ranked = selectRankedImageIds(state());
    expect(selectRankedImageIds(state())).toBe(ranked);
  });

  it('ignores a selected label that has no embedding yet', () => {
    setUp();
    state().toggleSelectedLabel('purple');
    expect(selectRankedImageIds(state())).toBe(state().imageIds);
  });
});

describe('label summaries', () => {
  it('counts the images whose most probable label each label is', () => {
    setUp();
    expect(selectTopLabelCounts(state())).toEqual({ red: 2, blue: 1 });
  });

  it('lists the labels whose prompts were truncated', () => {
    setUp();
    expect([...selectTruncatedLabelIds(state())]).toEqual(['green']);
  });
});

describe('search and similarity order', () => {
  afterEach(resetStore);

  it('ranks by cosine to the query, hides those below the threshold, and keeps images not embedded last', () => {
    setUp();
    state().setSearchQuery('something green');
    state().setQueryEmbedding({ query: 'something green', vector: unit([0, 1, 0]) });
    expect(selectRankedImageIds(state())).toEqual(['red-and-green', 'mostly-red', 'mostly-blue', 'pending']);
    const range = selectQueryCosineRange(state())!;
    expect(range.low).toBeCloseTo(unit([0.2, 0.25, 0.9])[1]!, 6);
    expect(range.high).toBeCloseTo(unit([0.6, 0.55, 0])[1]!, 6);
    state().setSearchThreshold(0.5);
    expect(selectRankedImageIds(state())).toEqual(['red-and-green', 'pending']);
    expect(selectReferenceCosine(state(), 'red-and-green')).toBeCloseTo(unit([0.6, 0.55, 0])[1]!, 6);
    // An empty box ends the search: the order added comes back, and the threshold is forgotten.
    state().setSearchQuery('  ');
    expect(state().searchThreshold).toBeNull();
    expect(selectRankedImageIds(state())).toEqual(['mostly-red', 'pending', 'mostly-blue', 'red-and-green']);
  });

  it('ranks by similarity to a chosen image, which replaces a search, and ends when that image goes', () => {
    setUp();
    state().setSearchQuery('blue');
    state().setQueryEmbedding({ query: 'blue', vector: unit([0, 0, 1]) });
    state().toggleSimilarTo('mostly-red');
    expect(state().searchQuery).toBe('');
    expect(selectRankedImageIds(state())).toEqual(['mostly-red', 'red-and-green', 'mostly-blue', 'pending']);
    expect(selectReferenceCosine(state(), 'mostly-red')).toBeCloseTo(1, 6);
    state().removeImage('mostly-red');
    expect(state().similarToImageId).toBeNull();
    expect(selectRankedImageIds(state())).toEqual(['pending', 'mostly-blue', 'red-and-green']);
  });
});

describe('modes', () => {
  afterEach(resetStore);

  it('multi-label: each label on its own, applied at its threshold; none of these only when allowed', () => {
    setUp();
    addImage('yellow', unit([1, 1, 0])); // red and green alike
    state().setClassificationMode('multi');
    expect(selectOutcome(state(), 'yellow')).toEqual({ kind: 'labels', labelIds: ['red', 'green'] });
    expect(selectOutcome(state(), 'red-and-green')).toEqual({ kind: 'labels', labelIds: ['red'] });
    const top = selectTopLabels(state(), 'yellow');
    expect(top[0]!.probability + top[1]!.probability).toBeGreaterThan(1); // independent, not a share
    // A stricter threshold on green takes it off.
    state().setLabelThreshold('green', 0.999);
    expect(selectOutcome(state(), 'yellow')).toEqual({ kind: 'labels', labelIds: ['red'] });
    expect(selectTopLabelCounts(state())).toEqual({ red: 3, blue: 1 });
    // An image between all three labels gets none of them once "none of these" competes.
    addImage('grey', unit([1, 1, 1.05]));
    expect(selectOutcome(state(), 'grey')?.kind).toBe('labels');
    state().setAllowNone(true);
    expect(selectOutcome(state(), 'grey')).toEqual({ kind: 'none' });
    expect(selectOutcome(state(), 'mostly-red')).toEqual({ kind: 'labels', labelIds: ['red'] });
  });

  it('single-label with "none of these": an image between all labels gets none, a clear one its label', () => {
    setUp();
    addImage('grey', unit([1, 1, 1.05]));
    expect(selectOutcome(state(), 'grey')).toEqual({ kind: 'labels', labelIds: ['blue'] });
    state().setAllowNone(true);
    expect(selectOutcome(state(), 'grey')).toEqual({ kind: 'none' });
    expect(selectOutcome(state(), 'mostly-red')).toEqual({ kind: 'labels', labelIds: ['red'] });
    const probabilities = selectTopLabels(state(), 'grey').reduce((sum, score) => sum + score.probability, 0);
    expect(probabilities).toBeLessThan(0.5); // the rest is "none of these"
  });
});
