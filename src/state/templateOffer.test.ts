import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPreset, loadModel, switchToFullTemplates, undoLabelEdit } from './engineBridge';
import { FakeEngine, connectFakeEngine, disconnectFakeEngine, settle } from './fakeEngine.testing';
import { loadPreset } from './presets';
import { useLensStore } from './store';

const state = () => useLensStore.getState();
let engine: FakeEngine;
/** The label debounce is 0 ms here: a timer turn lets the scheduled embedding start. */
const embedded = async () => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  await settle();
};
const lastTemplates = () => engine.embedLabels.mock.lastCall?.[0].templates;

beforeEach(() => {
  engine = new FakeEngine();
  connectFakeEngine(engine);
});

afterEach(disconnectFakeEngine);

describe('a preset with a first-ranking template subset (issue #19)', () => {
  it('ImageNet-1k ranks with its 7 templates first, offers all 80, and another preset withdraws the offer', async () => {
    const imagenet = await loadPreset('imagenet-1k');
    await loadModel();
    await applyPreset('imagenet-1k');
    await embedded();
    expect(state().templates).toEqual(imagenet.fastTemplates);
    expect(lastTemplates()).toEqual(imagenet.fastTemplates);
    expect(state().labelEmbeddings?.labelTexts).toHaveLength(998);
    expect(state().fullTemplateOffer).toEqual({ presetName: imagenet.name, templates: imagenet.templates });
    expect(state().notices.at(-1)?.text).toMatch(/998 labels .*, 7 prompt templates of 80\./);

    switchToFullTemplates();
    await embedded();
    expect(state().templates).toEqual(imagenet.templates);
    expect(lastTemplates()).toHaveLength(80);
    // Undo goes back to the 7 (the cache keeps both sets' prompts, so that costs nothing).
    expect(undoLabelEdit()).toBe(true);
    await embedded();
    expect(state().templates).toHaveLength(7);

    await applyPreset('cifar-10');
    await embedded();
    expect(state().fullTemplateOffer).toBeNull();
    expect(state().templates).toHaveLength(18);
  });
});
