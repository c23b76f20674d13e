import { selectBestCosineRange } from '../../state/selectors';
import { useLensStore } from '../../state/store';
import { vocabularySummary } from '../../state/vocabulary';
import { ModalDialog } from './ModalDialog';
import { useModelVocabulary } from '../labels/useModelVocabulary';

/** Which model answers, from its own manifest, and what it cannot know (a closed vocabulary). */
function ModelInUse() {
  const manifest = useLensStore((state) => state.model?.manifest ?? null);
  const known = useModelVocabulary();
  if (!manifest) return null;
  return (
    <>
      <h3>The model in use</h3>
      <p data-testid="help-model">
        <strong>{manifest.name}</strong>
        {known
          ? `: ${known.isDemo ? 'the demo model, served with the app; it' : 'it'} ${vocabularySummary(known.vocabulary)}`
          : ''}
        . {manifest.description}
        {known &&
          ' Labels with other words get a note beside them: the model has never seen those words, so its scores for them mean nothing. Models has the road to a real EVA-CLIP.'}
      </p>
    </>
  );
}

/** What the numbers mean, how the modes decide, and where the photos go (nowhere). */
export function HelpDialog() {
  const isOpen = useLensStore((state) => state.isHelpOpen);
  const setHelpOpen = useLensStore((state) => state.setHelpOpen);
  const logitScale = useLensStore((state) => state.model?.manifest.logitScale ?? null);
  const bestRange = useLensStore(selectBestCosineRange);
  if (!isOpen) return null;
  return (
    <ModalDialog
      title="What the numbers mean"
      className="help"
      onClose={() => setHelpOpen(false)}
      testId="help"
    >
      <ModelInUse />
      <h3>Cosine</h3>
      <p>
        The model turns each image and each label into a list of numbers (an embedding) pointing in some
        direction. The cosine says how closely two of them point the same way: 1 is the same direction, 0
        unrelated. What a good match scores depends on the model: well below 1 for every CLIP model, so what
        counts is how much higher one label is than the others.{' '}
        <span data-testid="help-cosine-range">
          {bestRange
            ? `Here, with the model in use and these labels, each image's best label scores between ${bestRange.low.toFixed(2)} and ${bestRange.high.toFixed(2)} (${bestRange.count} ${bestRange.count === 1 ? 'image' : 'images'}).`
            : 'Once images are classified, this says what the best labels score with the model in use.'}
        </span>
      </p>
      <h3>Probability</h3>
      <p>
        In <strong>one label per image</strong> mode, the cosines of an image are multiplied by the
        model&apos;s logit scale
        {logitScale !== null ? ` (${logitScale.toFixed(1)} for the model in use)` : ''} and turned into shares
        that add up to 100 % (a softmax). 80 % means: of these labels, this one fits by far the best. It does
        not mean the label is right if the right label is not in the list.
      </p>
      <p>
        In <strong>any number of labels</strong> mode each label is judged on its own: its probability is its
        odds against an average label of the list, so 50 % means “as likely as an average label”. A label
        applies (✓) when its probability reaches its threshold, 50 % unless you set another beside the label.
      </p>
      <p>
        <strong>None of these</strong> adds one more competitor: how well the image matches the list as a
        whole (the average direction of the labels). When that beats every label, the image fits none of them.
      </p>
      <h3>Prompt templates</h3>
      <p>
        A label is put into sentences such as “a photo of a {'{}'}.” before it is embedded; with several
        templates the embeddings are averaged, which usually helps (ImageNet-1k starts with CLIP&apos;s 7
        chosen templates and offers all 80). A search is embedded as you type it.
      </p>
      <h3>Search, similar images and near-duplicates</h3>
      <p>
        Search ranks images by the cosine between your words and each image. “Similar” ranks by the cosine
        between images; near-duplicates are pairs above a cosine you choose (copies and re-saves of one photo
        are above 0.95).
      </p>
      <h3>Keyboard</h3>
      <ul>
        <li>Tab moves through every control; Enter or Space opens an image with all its scores.</li>
        <li>In an open image, ← and → go to the previous and next image; Escape closes it.</li>
        <li>Ctrl+Z (⌘Z) undoes the last label edit when you are not typing in a field.</li>
      </ul>
      <h3>Privacy</h3>
      <p>
        Images never leave this device: the model runs in this browser tab, and embeddings are kept only in
        this browser&apos;s storage. “Forget everything” in Models empties it.
      </p>
    </ModalDialog>
  );
}
