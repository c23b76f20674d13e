/**
 * Every action that involves the worker, callable from anywhere without hooks (zustand's "actions outside the
 * store"). Components call these; worker results reach the store only through here.
 */
import { ManifestError, describeError } from '../core/errors';
import type { BackendPreference, LoadedModel } from '../core/protocol';
import {
  bridgeConfig,
  configureBridge,
  disposeEngine,
  getEngine,
  resetBridgeConfig,
  setBackendChangeListener,
} from './workerClient';
import {
  addImageFiles,
  cancelImages,
  clearImageFiles,
  interruptImages,
  pumpImages,
  removeImageFile,
  requeueAllImages,
  resetImagePipeline,
  type AddFilesSummary,
} from './imagePipeline';
import {
  cancelLabelEmbedding,
  embedLabelsNow,
  resetLabelPipeline,
  scheduleLabelEmbedding,
} from './labelPipeline';
import { plural } from './imageFiles';
import { loadPreset } from './presets';
import { resetDuplicatesPipeline } from './duplicatesPipeline';
import { refreshSearch, resetSearchPipeline } from './searchPipeline';
import { DEMO_MODEL_ID, type HubBuildEntry } from './catalog';
import { buildFromOfficialWeights, sourceFor } from './modelTransfers';
import { fetchSampleSet, type SampleSet } from './samples';
import { cleanLabelListInSteps, type ReplacedLabels } from './labelsSlice';
import { useLensStore } from './store';

export type { AddFilesSummary } from './imagePipeline';
export type { LensEngine, BridgeConfig } from './workerClient';

let modelLoad: Promise<void> | null = null;

// The GPU lost mid-session: the engine finished the images on WASM; the labels follow on the new tower.
setBackendChangeListener(() => {
  scheduleLabelEmbedding();
  refreshSearch();
});

/**
 * Loads the model with the preferred backend (once; a call during a load returns the same promise), then embeds
 * the labels and continues with any queued images.
 */
export function loadModel(): Promise<void> {
  modelLoad ??= runModelLoad().finally(() => {
    modelLoad = null;
  });
  return modelLoad;
}

async function runModelLoad(): Promise<void> {
  useLensStore.getState().startModelLoad();
  const { activeModelId } = useLensStore.getState();
  try {
    const model = await loadWithFallback(activeModelId);
    useLensStore.getState().setModelReady(model);
  } catch (error) {
    useLensStore.getState().setModelError(describeError(error));
    return;
  }
  pumpImages();
  refreshSearch();
  await embedLabelsNow();
}

/** Loads the model `id`; a stored model that is gone (storage cleared, deleted in another tab) gives way to the demo. */
async function loadWithFallback(id: string): Promise<LoadedModel> {
  const backend = useLensStore.getState().backendPreference;
  try {
    return await getEngine().call('loadModel', { source: sourceFor(id), backend });
  } catch (error) {
    const isGone = error instanceof ManifestError && sourceFor(id).kind === 'stored';
    if (!isGone) throw error;
    useLensStore.getState().pushNotice(`${describeError(error)} Using the demo model instead.`, 'error');
    useLensStore.getState().setActiveModelId(DEMO_MODEL_ID);
    return getEngine().call('loadModel', { source: sourceFor(DEMO_MODEL_ID), backend });
  }
}

/**
 * Switches to the model `id` (stored or embedded): stops the image in flight, loads it, then embeds labels and
 * images again. If it fails to load, the message is shown and the previous model is loaded again.
 * @returns whether the model is now in use.
 */
export async function switchModel(id: string): Promise<boolean> {
  const previous = useLensStore.getState().activeModelId;
  await modelLoad;
  await interruptImages();
  useLensStore.getState().setActiveModelId(id);
  await loadModel();
  if (useLensStore.getState().modelStatus !== 'ready') {
    const message = useLensStore.getState().modelError ?? 'it did not load';
    useLensStore.getState().pushNotice(`That model could not be used: ${message}`, 'error');
    if (previous !== id) {
      useLensStore.getState().setActiveModelId(previous);
      await loadModel();
    }
  }
  const isReady = useLensStore.getState().modelStatus === 'ready';
  if (isReady) requeueAllImages();
  return isReady && useLensStore.getState().activeModelId === id;
}

/**
 * The one-click road from the demo to a real model: builds `entry` from the official weights, then puts it in use
 * (the images on the page are embedded again with it, with the usual progress and Cancel). A failed or cancelled
 * build leaves the model in use as it was.
 */
export async function getModelFromOfficialWeights(entry: HubBuildEntry): Promise<boolean> {
  const stored = await buildFromOfficialWeights(entry, switchModel);
  return stored !== null && useLensStore.getState().activeModelId === stored.id;
}

/** Switches backend: stops the image in flight, reloads the model, then embeds labels and images again. */
export async function setBackendPreference(preference: BackendPreference): Promise<void> {
  const store = useLensStore.getState();
  if (preference === store.backendPreference && store.modelStatus !== 'error') return;
  store.setBackendPreference(preference);
  await modelLoad;
  await interruptImages();
  await loadModel();
  if (useLensStore.getState().modelStatus === 'ready') requeueAllImages();
}

/** Adds dropped, picked or pasted files; starts the model if it is not loading yet. */
export function addFiles(files: Iterable<File>): AddFilesSummary {
  const summary = addImageFiles(files);
  if (summary.added > 0 && useLensStore.getState().modelStatus === 'idle') void loadModel();
  return summary;
}

export const removeImage = removeImageFile;
export const clearImages = clearImageFiles;
/** Cancels the running batch of images. */
export const cancel = cancelImages;

export function addLabel(text: string): boolean {
  const isAdded = useLensStore.getState().addLabel(text);
  if (isAdded) scheduleLabelEmbedding();
  return isAdded;
}

export function updateLabel(id: string, text: string): boolean {
  const isUpdated = useLensStore.getState().updateLabel(id, text);
  if (isUpdated) scheduleLabelEmbedding();
  return isUpdated;
}

export function removeLabel(id: string): void {
  useLensStore.getState().removeLabel(id);
  scheduleLabelEmbedding();
}

/** Replaces every label (the "paste a list" dialog, the samples); says what was left out of a pasted list. */
export function setLabels(texts: readonly string[]): ReplacedLabels {
  const result = useLensStore.getState().replaceLabels(texts);
  scheduleLabelEmbedding();
  return result;
}

/** A task boundary: lets the page paint and handle input between steps of a long job. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * setLabels for a pasted list of any size: the lines are cleaned in steps with the page free between them, then
 * the labels are replaced in one undoable step.
 */
export async function setLabelsInSteps(texts: readonly string[]): Promise<ReplacedLabels> {
  const cleaned = await cleanLabelListInSteps(texts, nextTask);
  const result = useLensStore.getState().replaceWithCleanLabels(cleaned);
  scheduleLabelEmbedding();
  return result;
}

export function setTemplates(templates: readonly string[]): void {
  useLensStore.getState().setTemplates(templates);
  scheduleLabelEmbedding();
}

/** Replaces the labels and templates with a preset's (one step for Undo), and says where the list comes from. */
export async function applyPreset(id: string): Promise<void> {
  try {
    const preset = await loadPreset(id);
    const { kept, duplicates } = useLensStore
      .getState()
      .replaceLabelSet(preset.labels, preset.templates, `use ${preset.name}`);
    scheduleLabelEmbedding();
    const repeats = duplicates > 0 ? ` (${plural(duplicates, 'repeated name')} left out)` : '';
    useLensStore
      .getState()
      .pushNotice(
        `${preset.name}: ${plural(kept, 'label')}${repeats}, ${plural(preset.templates.length, 'prompt template')}. Source: ${preset.source}`,
      );
  } catch (error) {
    useLensStore.getState().pushNotice(`The preset could not be used: ${describeError(error)}`, 'error');
  }
}

/** Stops embedding the labels and goes back to the labels the results are for (see labelsSlice). */
export { cancelLabelEmbedding };

/** Embeds the labels again after a cancel that had nothing to go back to. */
export function embedLabelsAgain(): void {
  void embedLabelsNow();
}

/** Puts back the labels and templates before the last edit. */
export function undoLabelEdit(): boolean {
  const isUndone = useLensStore.getState().undoLabelEdit();
  if (isUndone) scheduleLabelEmbedding();
  return isUndone;
}

/** The bundled sample images with their true labels, or null (with a notice saying why) when they cannot be had. */
export async function fetchSamples(): Promise<SampleSet | null> {
  try {
    return await fetchSampleSet(bridgeConfig.fetch, `${bridgeConfig.baseUrl}samples/`);
  } catch (error) {
    useLensStore.getState().pushNotice(`The samples could not be loaded: ${describeError(error)}`, 'error');
    return null;
  }
}

/**
 * Adds the sample images; their labels replace the person's only when `replaceLabels` (the button asks first when
 * there are labels of the person's own to lose).
 */
export function addSampleSet(samples: SampleSet, { replaceLabels }: { replaceLabels: boolean }): void {
  if (replaceLabels) setLabels(samples.labels);
  addFiles(samples.files);
}

/** True when the labels in use are the person's own: replacing them with the samples' would lose something. */
export function hasOwnLabels(samples: SampleSet): boolean {
  const sampleLabels = new Set(samples.labels);
  return useLensStore.getState().labels.some((label) => !sampleLabels.has(label.text));
}

/** "Try the samples" with nothing to lose: fetches the bundled images, uses their true labels, and adds them. */
export async function loadSamples(): Promise<void> {
  const samples = await fetchSamples();
  if (samples) addSampleSet(samples, { replaceLabels: true });
}

/** Test hook: replaces the engine factory, scheduler, clock, debounce or fetch. */
export const configureEngineBridge = configureBridge;

/** Test hook: terminates the engine and forgets all module state (the store is reset separately). */
export function resetEngineBridge(): void {
  resetImagePipeline();
  resetLabelPipeline();
  resetSearchPipeline();
  resetDuplicatesPipeline();
  disposeEngine();
  resetBridgeConfig();
  modelLoad = null;
}
